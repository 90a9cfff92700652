using Hangfire.Logging;
using MsLogLevel = Microsoft.Extensions.Logging.LogLevel;

namespace ImagePictures.Api.Jobs;

/// <summary>
/// Hangfire's log lines into our logging. Hangfire holds its log provider in a static property, so
/// with several hosts in one process (tests) a component may ask a host that has already stopped;
/// then its lines are dropped instead of failing the component.
/// </summary>
public sealed class HangfireLogs(ILoggerFactory factory) : ILogProvider
{
    public ILog GetLogger(string name) => new Logger(factory, name);

    private sealed class Logger(ILoggerFactory factory, string name) : ILog
    {
        private ILogger? _logger;

        public bool Log(Hangfire.Logging.LogLevel logLevel, Func<string>? messageFunc, Exception? exception = null)
        {
            try
            {
                var logger = _logger ??= factory.CreateLogger(name);
                var level = logLevel switch
                {
                    Hangfire.Logging.LogLevel.Trace => MsLogLevel.Trace,
                    Hangfire.Logging.LogLevel.Debug => MsLogLevel.Debug,
                    Hangfire.Logging.LogLevel.Info => MsLogLevel.Information,
                    Hangfire.Logging.LogLevel.Warn => MsLogLevel.Warning,
                    Hangfire.Logging.LogLevel.Error => MsLogLevel.Error,
                    _ => MsLogLevel.Critical,
                };
                if (messageFunc is null) return logger.IsEnabled(level);
                if (logger.IsEnabled(level)) logger.Log(level, exception, "{Message}", messageFunc());
                return true;
            }
            catch (ObjectDisposedException)
            {
                return false;
            }
        }
    }
}

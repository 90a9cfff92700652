using System.Collections.Concurrent;
using ImagePictures.Api.Realtime;
using ImagePictures.Api.Tests.Infrastructure;
using HubException = Microsoft.AspNetCore.SignalR.HubException;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImagePictures.Api.Tests.Realtime;

/// <summary>Keeps every log entry (message, state values, exception, scopes) at every level.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
{
    private IExternalScopeProvider? _scopes;
    public ConcurrentQueue<(string Category, LogLevel Level, string Text)> Entries { get; } = new();

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);
    public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;
    public void Dispose() { }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => owner._scopes?.Push(state);
        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            var text = new System.Text.StringBuilder(formatter(state, exception));
            if (state is IEnumerable<KeyValuePair<string, object?>> values)
                foreach (var (key, value) in values) text.Append(" | ").Append(key).Append('=').Append(value);
            if (exception is not null) text.Append(" | ").Append(exception);
            owner._scopes?.ForEachScope((scope, sb) => sb.Append(" | scope ").Append(scope), text);
            owner.Entries.Enqueue((category, logLevel, text.ToString()));
        }
    }
}

public sealed class LogCapturingApplication : PicturesApplication
{
    public CapturingLoggerProvider Logs { get; } = new();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        // Everything, at every level: the strictest setting an operator could choose.
        foreach (var category in new[] { "Default", "Microsoft", "Microsoft.AspNetCore", "Microsoft.AspNetCore.Hosting.Diagnostics" })
            builder.UseSetting($"Logging:LogLevel:{category}", "Trace");
        builder.ConfigureServices(s => s.AddSingleton<ILoggerProvider>(Logs));
    }
}

[Trait("Category", "Api")]
public class TokenLoggingTests(LogCapturingApplication app) : IClassFixture<LogCapturingApplication>
{
    [Fact]
    public async Task AccessTokenNeverAppearsInTheLogs()
    {
        var token = app.Token("log-user");
        var expiring = app.Token("log-user", lifetime: TimeSpan.FromSeconds(2));
        await using (var hub = await RecordingHubConnection.ConnectAsync(app.Server, RealtimeKit.Hub, token))
        {
            await hub.InvokeAsync("Watch", (object)new[] { "someone" });
            await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync("Watch", (object)new[] { "bad id!" }));
            await RealtimeKit.UploadAsync(app, "log-user", activate: true);
            await hub.NextAsync(EventTypes.ActivePictureChanged, RealtimeKit.Soon);
        }
        await using (var hub = await RecordingHubConnection.ConnectAsync(app.Server, RealtimeKit.Hub, expiring))
            await hub.Closed.WaitAsync(TimeSpan.FromSeconds(15));
        var forged = await Assert.ThrowsAsync<HttpRequestException>(() =>
            RecordingHubConnection.ConnectAsync(app.Server, RealtimeKit.Hub, ForgedTokens.Tampered(token, "log-other")));
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, forged.StatusCode);
        // The request line is written once the response has completed: the last request's line is the signal.
        await Eventually(() => app.Logs.Entries.Any(e => e.Text.Contains("/hubs/pictures/negotiate 401")), "the forged negotiate's request line was logged");

        var entries = app.Logs.Entries.ToArray();
        Assert.Contains(entries, e => e.Text.Contains("/hubs/pictures")); // the hub's requests were logged (by path)
        Assert.Contains(entries, e => e.Category.StartsWith("Microsoft.AspNetCore.SignalR") || e.Category.StartsWith("Microsoft.AspNetCore.Http.Connections"));
        foreach (var secret in new[] { token, expiring, token.Split('.')[2], expiring.Split('.')[2] })
        {
            var leak = entries.FirstOrDefault(e => e.Text.Contains(secret));
            Assert.True(leak == default, $"token in log: [{leak.Category}] {leak.Text}");
        }
        Assert.DoesNotContain(entries, e => e.Text.Contains("access_token"));
    }
}

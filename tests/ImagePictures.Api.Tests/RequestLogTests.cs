using System.Collections.Concurrent;
using System.Net;
using ImagePictures.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImagePictures.Api.Tests;

/// <summary>The per-request line: written in Development, silent under the Production defaults.</summary>
[Trait("Category", "Api")]
public class RequestLogTests
{
    private sealed class CapturedLines : ILoggerProvider
    {
        public ConcurrentQueue<(string Category, LogLevel Level, string Message)> Lines { get; } = new();
        public ILogger CreateLogger(string category) => new Logger(this, category);
        public void Dispose() { }

        private sealed class Logger(CapturedLines owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
            public bool IsEnabled(LogLevel level) => true;
            public void Log<TState>(LogLevel level, EventId id, TState state, Exception? e, Func<TState, Exception?, string> format) =>
                owner.Lines.Enqueue((category, level, format(state, e)));
        }
    }

    private sealed class LoggingApplication(string environment, CapturedLines lines) : PicturesApplication
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseEnvironment(environment);
            builder.UseSetting("Auth:SigningKey", "a-production-test-key-that-is-long-enough-0123456789abcdef");
            builder.UseSetting("Auth:AllowSymmetricKey", "true");
            builder.ConfigureServices(s => s.AddSingleton<ILoggerProvider>(lines));
        }
    }

    private static async Task<List<string>> RequestLinesAfterAvatarBurst(string environment)
    {
        var lines = new CapturedLines();
        var app = new LoggingApplication(environment, lines);
        try
        {
            await app.InitializeAsync();
            var client = app.CreateClient();
            // The image routes are short-circuited past the request log; /health/live goes through it.
            for (var i = 0; i < 50; i++)
            {
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/avatars/log-user-{i % 5}?size=64")).StatusCode);
                Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
            }
        }
        finally { await ((IAsyncLifetime)app).DisposeAsync(); }
        return lines.Lines.Where(l => l.Category == "ImagePictures.Requests").Select(l => l.Message).ToList();
    }

    [Fact]
    public async Task ProductionDefaultsWriteNoLinePerRequest()
    {
        var lines = await RequestLinesAfterAvatarBurst("Production");
        Assert.True(lines.Count == 0, string.Join("\n", lines.Take(5)));
    }

    [Fact]
    public async Task DevelopmentWritesTheLinePerRequest()
    {
        var lines = await RequestLinesAfterAvatarBurst("Development");
        Assert.True(lines.Count(l => l.Contains("/health/live")) >= 50, $"{lines.Count} lines");
    }
}

using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace ImagePictures.Api.Tests.Infrastructure;

/// <summary>
/// The service on a real Kestrel port (for browsers and real hub clients), with a way to drop its hub
/// connections as a restarting proxy or a network blip would, and to refuse new ones for a while.
/// </summary>
public class KestrelPicturesApplication : PicturesApplication
{
    private readonly HubDropper _dropper = new();
    public string BaseUrl { get; private set; } = "";

    protected override void StartHost()
    {
        UseKestrel(0);
        StartServer();
        BaseUrl = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("[::]", "127.0.0.1");
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureServices(s => s.AddSingleton<IStartupFilter>(_dropper));
    }

    /// <summary>A client of the API over the real socket.</summary>
    public HttpClient Api(string userId, string[]? roles = null) =>
        new() { BaseAddress = new Uri(BaseUrl), DefaultRequestHeaders = { Authorization = new("Bearer", Token(userId, roles)) } };

    /// <summary>Aborts every open hub WebSocket; returns how many.</summary>
    public int DropHubConnections() => _dropper.DropAll();

    /// <summary>While true, every request under /hubs is answered 503 (the hub is unreachable).</summary>
    public bool HubUnreachable { get => _dropper.Refuse; set => _dropper.Refuse = value; }

    private sealed class HubDropper : IStartupFilter
    {
        private readonly ConcurrentDictionary<HttpContext, bool> _open = new();
        public volatile bool Refuse;

        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use(async (http, nextMiddleware) =>
            {
                if (!http.Request.Path.StartsWithSegments("/hubs"))
                {
                    await nextMiddleware(http);
                    return;
                }
                if (Refuse)
                {
                    http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
                    return;
                }
                // Runs before UseWebSockets, so the upgrade header rather than IsWebSocketRequest.
                if (!string.Equals(http.Request.Headers.Upgrade, "websocket", StringComparison.OrdinalIgnoreCase))
                {
                    await nextMiddleware(http);
                    return;
                }
                _open[http] = true;
                try { await nextMiddleware(http); }
                finally { _open.TryRemove(http, out _); }
            });
            next(app);
        };

        public int DropAll()
        {
            var dropped = 0;
            foreach (var http in _open.Keys) { http.Abort(); dropped++; }
            return dropped;
        }
    }
}

using System.Net;
using ImagePictures.Api.Hosting;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace ImagePictures.Api.Operations;

/// <summary>
/// Behind nginx (ForwardedHeaders:Enabled): X-Forwarded-For/-Proto/-Host from a trusted proxy
/// become the client address, the scheme (so IsHttps and the Secure cookie are right) and the host.
/// Only loopback and ForwardedHeaders:KnownProxies are trusted, so a client cannot forge them.
/// </summary>
public static class ReverseProxy
{
    public static void AddReverseProxy(this WebApplicationBuilder builder)
    {
        builder.Services.AddSettings<ReverseProxyOptions>(ReverseProxyOptions.Section);
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ReverseProxyOptions>>((o, settings) =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            o.ForwardLimit = settings.Value.ForwardLimit;
            foreach (var proxy in settings.Value.KnownProxies) o.KnownProxies.Add(IPAddress.Parse(proxy));
        });
    }

    public static void UseReverseProxy(this WebApplication app)
    {
        if (app.Services.GetRequiredService<IOptions<ReverseProxyOptions>>().Value.Enabled) app.UseForwardedHeaders();
    }
}

using System.Net;
using Microsoft.AspNetCore.HttpOverrides;

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
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<Microsoft.Extensions.Options.IOptions<ForwardedHeadersSettings>>((o, settings) =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
            o.ForwardLimit = settings.Value.ForwardLimit;
            foreach (var proxy in settings.Value.KnownProxies) o.KnownProxies.Add(IPAddress.Parse(proxy));
        });
    }

    public static void UseReverseProxy(this WebApplication app)
    {
        if (app.Configuration.GetValue("ForwardedHeaders:Enabled", false)) app.UseForwardedHeaders();
    }
}

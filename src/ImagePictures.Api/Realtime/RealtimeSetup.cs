using System.Text.Json;
using System.Text.Json.Serialization;
using ImagePictures.Api.Hosting;
using ImagePictures.Api.Operations;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.Extensions.Options;

namespace ImagePictures.Api.Realtime;

/// <summary>The hub, its origin check, the event relay and the events route.</summary>
public static class RealtimeSetup
{
    public const string HubPath = "/hubs/pictures";
    private const string CorsPolicy = "hubs";

    /// <summary>A valid token, or (with Realtime:AnonymousWatch) no token at all; a bad token is still 401.</summary>
    public const string HubPolicy = "hub";

    public static void AddRealtime(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<RealtimeOptions>(RealtimeOptions.Section);
        services.AddSignalR().AddJsonProtocol(o =>
        {
            o.PayloadSerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
            o.PayloadSerializerOptions.DefaultIgnoreCondition = JsonIgnoreCondition.Never; // "picture": null stays
        });
        services.AddSingleton<WatchRegistry>();
        services.AddSingleton<HubConnectionLimits>();
        services.AddSingleton<ImagePictures.Client.IAvatarEvents, RelayAvatarEvents>(); // the dashboard's LiveAvatar
        services.AddAuthorizationBuilder().AddPolicy(HubPolicy, p => p.RequireAssertion(ctx =>
            ctx.User.Identity?.IsAuthenticated == true
            || (ctx.Resource is HttpContext http && HubConnectionLimits.BringsNoToken(http.Request)
                && http.RequestServices.GetRequiredService<IOptions<RealtimeOptions>>().Value.AnonymousWatch)));
        services.AddSingleton<EventRelay>();
        services.AddHostedService(sp => sp.GetRequiredService<EventRelay>());
        services.AddCors();
        services.AddOptions<CorsOptions>().Configure<IOptions<RealtimeOptions>>((cors, realtime) => cors.AddPolicy(CorsPolicy, p => p
            .SetIsOriginAllowed(origin => IsAllowed(origin, realtime.Value.AllowedOrigins))
            .AllowAnyHeader().AllowAnyMethod().AllowCredentials()));

        // The hub's access_token rides in the query string: these categories would print the whole URL.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.AspNetCore.Server.Kestrel.BadRequests", LogLevel.Warning);
    }

    /// <summary>Before authentication: WebSockets, and the refusal of foreign origins under /hubs.</summary>
    public static void UseRealtime(this WebApplication app)
    {
        app.UseWebSockets();
        var allowed = app.Services.GetRequiredService<IOptions<RealtimeOptions>>().Value.AllowedOrigins;
        app.Use(async (http, next) =>
        {
            if (http.Request.Path.StartsWithSegments("/hubs") && http.Request.Headers.Origin is { Count: > 0 } origin
                && !IsAllowed(origin.ToString(), allowed)
                && !IsSameOrigin(http.Request, origin.ToString()))
            {
                await Problems.Write(http, StatusCodes.Status403Forbidden, "Origin not allowed",
                    "This origin may not connect to the hub: add it to Realtime:AllowedOrigins.");
                return;
            }
            await next(http);
        });
        app.UseCors();
    }

    public static void MapRealtime(this WebApplication app) =>
        app.MapHub<PicturesHub>(HubPath, o => o.CloseOnAuthenticationExpiration = true).RequireCors(CorsPolicy)
            .RequireAuthorization(HubPolicy).Add(HubConnectionLimits.Admit);

    internal static bool IsAllowed(string origin, string[] allowed) =>
        allowed.Length == 0 || allowed.Any(a => string.Equals(a.TrimEnd('/'), origin.TrimEnd('/'), StringComparison.OrdinalIgnoreCase));

    private static bool IsSameOrigin(HttpRequest request, string origin) =>
        string.Equals($"{request.Scheme}://{request.Host}", origin.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);
}

using ImagePictures.Api.Hosting;
using Microsoft.Extensions.Options;
using AspNetCorsOptions = Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions;

namespace ImagePictures.Api.Clients;

/// <summary>
/// CORS for /api, so that &lt;avatar-editor&gt; on another origin can call it with a bearer token: preflight for
/// Authorization and multipart bodies, and the headers a client reads (Location, Retry-After) exposed. No
/// cookies are involved, so credentials stay off. The hub keeps its own policy (Realtime:AllowedOrigins).
/// </summary>
public static class ApiCors
{
    private const string Policy = "api";

    public static void AddApiCors(this WebApplicationBuilder builder)
    {
        builder.Services.AddSettings<ApiCorsOptions>(ApiCorsOptions.Section);
        builder.Services.AddCors();
        builder.Services.AddOptions<AspNetCorsOptions>().Configure<IOptions<ApiCorsOptions>, IHostEnvironment>((cors, settings, env) =>
        {
            var allowed = settings.Value.AllowedOrigins.Select(o => o.TrimEnd('/')).ToHashSet(StringComparer.OrdinalIgnoreCase);
            cors.AddPolicy(Policy, p => p
                .SetIsOriginAllowed(origin => env.IsDevelopment() || allowed.Contains(origin.TrimEnd('/')))
                .AllowAnyHeader().AllowAnyMethod()
                .WithExposedHeaders("Location", "Retry-After")
                .SetPreflightMaxAge(TimeSpan.FromMinutes(10)));
        });
    }

    /// <summary>Every route under /api, whichever group maps it; a preflight is answered here, before authentication.</summary>
    public static void UseApiCors(this WebApplication app) =>
        app.UseWhen(http => http.Request.Path.StartsWithSegments("/api"), api => api.UseCors(Policy));
}

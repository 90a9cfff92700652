using System.Net;
using ImagePictures.Api.Auth;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;

namespace ImagePictures.Api.Administration;

/// <summary>
/// Browser sign-in for the admin pages: an admin pastes a token, which is validated exactly as the
/// bearer handler would (same parameters, same keys) and must carry role admin; it is then kept in
/// an HttpOnly, SameSite=Strict cookie that the bearer handler reads for /admin, its Blazor circuit
/// (/_blazor) and the Hangfire jobs dashboard (/hangfire) only, never for the API.
/// </summary>
public static class AdminLogin
{
    public const string CookieName = "ip_admin";

    /// <summary>The paths where the cookie stands in for a bearer token (and where a browser without one is sent to sign in).</summary>
    public static bool AcceptsCookie(PathString path) =>
        path.StartsWithSegments("/admin") || path.StartsWithSegments("/_blazor") || path.StartsWithSegments(Jobs.JobsSetup.DashboardPath);

    public static void MapAdminLogin(this IEndpointRouteBuilder app)
    {
        app.MapGet("/admin/login", (HttpContext http) => Page(http, null)).ExcludeFromDescription();
        // No antiforgery token: the form is read by hand, and all it can do is set a cookie for a
        // valid admin token the poster already has. The cookie itself is SameSite=Strict, so another
        // site cannot make a browser use it.
        app.MapPost("/admin/login", SignIn).DisableAntiforgery().ExcludeFromDescription();
        app.MapPost("/admin/logout", (HttpContext http) =>
        {
            http.Response.Cookies.Delete(CookieName, new CookieOptions { Path = "/" });
            return Results.Redirect("/admin/login", permanent: false);
        }).DisableAntiforgery().ExcludeFromDescription();
    }

    private static async Task<IResult> SignIn(HttpContext http, IOptionsMonitor<JwtBearerOptions> bearer, CancellationToken ct)
    {
        if (!http.Request.HasFormContentType) return Page(http, "Paste an admin token into the form.", 400);
        var form = await http.Request.ReadFormAsync(ct);
        var token = form["token"].ToString().Trim();
        if (token.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) token = token[7..].Trim();
        if (token.Length == 0) return Page(http, "Paste an admin token into the form.", 400);

        var options = bearer.Get(JwtBearerDefaults.AuthenticationScheme);
        var parameters = options.TokenValidationParameters.Clone();
        if (options.ConfigurationManager is { } manager)
        {
            Microsoft.IdentityModel.Protocols.OpenIdConnect.OpenIdConnectConfiguration oidc;
            try { oidc = await manager.GetConfigurationAsync(ct); }
            catch (InvalidOperationException) // discovery or JWKS unreachable: the provider's trouble, not a bad token
            {
                return Page(http, "The identity provider cannot be reached right now; try again shortly.", 503);
            }
            parameters.IssuerSigningKeys = oidc.SigningKeys;
            parameters.ValidIssuers = [.. parameters.ValidIssuers ?? [], oidc.Issuer];
        }
        var result = await new JsonWebTokenHandler { MapInboundClaims = false }.ValidateTokenAsync(token, parameters);
        if (!result.IsValid) return Page(http, "That token is not valid here (signature, audience or expiry).", 401);
        if (!result.ClaimsIdentity.HasClaim("role", "admin")) return Page(http, "That token is valid but not an admin token.", 403);

        http.Response.Cookies.Append(CookieName, token, new CookieOptions
        {
            HttpOnly = true,
            SameSite = SameSiteMode.Strict,
            Secure = http.Request.IsHttps,
            Path = "/",
            // The cookie lives no longer than the token inside it.
            Expires = result.SecurityToken is JsonWebToken jwt && jwt.ValidTo > DateTime.MinValue ? jwt.ValidTo : null,
        });
        return Results.Redirect("/admin", permanent: false);
    }

    private static IResult Page(HttpContext http, string? message, int status = 200)
    {
        http.Response.Headers.CacheControl = "no-store";
        var note = message is null ? "" : $"<p class=\"ipd-error\" role=\"alert\">{WebUtility.HtmlEncode(message)}</p>";
        return Results.Content($$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><title>ImagePictures admin sign-in</title>
            <style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto}textarea{width:100%;height:8rem}</style></head>
            <body><h1>ImagePictures admin</h1>
            {{note}}
            <form method="post" action="/admin/login">
              <label for="token">Admin token (a JWT with role admin)</label>
              <textarea id="token" name="token" autocomplete="off" spellcheck="false" required></textarea>
              <p><button type="submit">Sign in</button></p>
            </form></body></html>
            """, "text/html; charset=utf-8", statusCode: status);
    }
}

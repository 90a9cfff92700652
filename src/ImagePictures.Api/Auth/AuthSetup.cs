using System.Security.Claims;
using System.Text;
using ImagePictures.Api.Hosting;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace ImagePictures.Api.Auth;

public static class AuthSetup
{
    public const string AdminPolicy = "admin";

    /// <summary>
    /// JWT bearer from an OIDC authority (Auth:Authority + Auth:Audience) or, in development, from
    /// the symmetric key in appsettings.Development.json. Claims keep their JWT names (sub, role, scope).
    /// </summary>
    public static void AddPicturesAuth(this WebApplicationBuilder builder)
    {
        builder.Services.AddSettings<AuthOptions>(AuthOptions.Section);
        builder.Services.AddSingleton<DevTokens>();
        builder.Services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        // Configured when first used, so that settings given by a test host apply as well; AuthOptions are checked at start.
        builder.Services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme).Configure<IOptions<AuthOptions>>((options, settings) =>
        {
            var auth = settings.Value;
            options.MapInboundClaims = false;
            options.IncludeErrorDetails = false;
            var validation = new TokenValidationParameters
            {
                ValidateAudience = true,
                ValidAudience = auth.Audience,
                ValidateLifetime = true,
                RequireExpirationTime = true,
                RequireSignedTokens = true,
                ClockSkew = TimeSpan.FromSeconds(30),
                NameClaimType = "sub",
                RoleClaimType = "role",
            };
            if (auth.UsesAuthority)
            {
                // Discovery and JWKS; a token with an unknown kid makes the handler refetch the keys, so a rotation needs no restart.
                options.Authority = auth.Authority;
                options.RequireHttpsMetadata = auth.RequireHttpsMetadata;
                validation.ValidAlgorithms = [SecurityAlgorithms.RsaSha256, SecurityAlgorithms.RsaSsaPssSha256, SecurityAlgorithms.EcdsaSha256];
            }
            else
            {
                validation.ValidIssuer = auth.Issuer;
                validation.IssuerSigningKey = DevTokens.KeyFrom(auth.SigningKey ?? "");
                validation.ValidAlgorithms = [SecurityAlgorithms.HmacSha256];
            }
            options.TokenValidationParameters = validation;
            options.Events = new JwtBearerEvents
            {
                // Browsers cannot set headers on WebSockets: the hub (only) takes the token from the query.
                OnMessageReceived = ctx =>
                {
                    if (ctx.Request.Path.StartsWithSegments("/hubs") && ctx.Request.Query.TryGetValue("access_token", out var token))
                        ctx.Token = token;
                    // The admin sign-in cookie (HttpOnly, SameSite=Strict), for the admin pages only (AdminLogin says which).
                    else if (!ctx.Request.Headers.ContainsKey("Authorization") && Administration.AdminLogin.AcceptsCookie(ctx.Request.Path)
                             && ctx.Request.Cookies.TryGetValue(Administration.AdminLogin.CookieName, out var cookie) && cookie.Length > 0)
                        ctx.Token = cookie;
                    return Task.CompletedTask;
                },
                OnChallenge = async ctx =>
                {
                    ctx.HandleResponse();
                    // A browser opening an admin page without any token is sent to the sign-in form.
                    if (Administration.AdminLogin.AcceptsCookie(ctx.Request.Path) && !ctx.Request.Headers.ContainsKey("Authorization")
                        && !ctx.Request.Cookies.ContainsKey(Administration.AdminLogin.CookieName)
                        && ctx.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase))
                    {
                        ctx.Response.Redirect("/admin/login");
                        return;
                    }
                    await Problems.Write(ctx.HttpContext, StatusCodes.Status401Unauthorized, "Unauthorized",
                        "A valid bearer token is required: send 'Authorization: Bearer <token>' with a token that is signed, unexpired and meant for this service.");
                },
                OnForbidden = ctx => Problems.Write(ctx.HttpContext, StatusCodes.Status403Forbidden, "Forbidden",
                    "Your token does not allow this action."),
            };
        });
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, p => p.RequireAuthenticatedUser().RequireClaim("role", "admin"));
    }

    public static string? UserId(this ClaimsPrincipal user) => user.FindFirstValue("sub");
    public static bool IsAdmin(this ClaimsPrincipal user) => user.HasClaim("role", "admin");
    public static bool CanProvision(this ClaimsPrincipal user) =>
        user.FindAll("scope").SelectMany(c => c.Value.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Contains("pictures:provision");
}

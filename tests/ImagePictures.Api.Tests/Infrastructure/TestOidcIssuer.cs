using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ImagePictures.Api.Tests.Infrastructure;

/// <summary>
/// A small OpenID Connect issuer on a free loopback port (real Kestrel, real HTTP): a discovery
/// document and a JWKS with one RSA key it generated, which <see cref="Rotate"/> replaces by a new
/// one with a new kid, as a provider does when it rolls its signing key.
/// </summary>
public sealed class TestOidcIssuer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private volatile RsaSecurityKey _key = NewKey();
    private int _jwksFetches;

    public string Issuer { get; }
    public int JwksFetches => _jwksFetches;
    public string CurrentKeyId => _key.KeyId;

    private TestOidcIssuer(WebApplication app, string issuer)
    {
        _app = app;
        Issuer = issuer;
    }

    public static async Task<TestOidcIssuer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        TestOidcIssuer? issuer = null;
        app.MapGet("/.well-known/openid-configuration", () => Results.Json(new Dictionary<string, object>
        {
            ["issuer"] = issuer!.Issuer,
            ["jwks_uri"] = $"{issuer.Issuer}/jwks",
            ["id_token_signing_alg_values_supported"] = new[] { "RS256" },
            ["response_types_supported"] = new[] { "code" },
            ["subject_types_supported"] = new[] { "public" },
        }));
        app.MapGet("/jwks", () =>
        {
            Interlocked.Increment(ref issuer!._jwksFetches);
            var jwk = JsonWebKeyConverter.ConvertFromRSASecurityKey(issuer._key);
            return Results.Json(new
            {
                keys = new[] { new { kty = jwk.Kty, use = "sig", alg = "RS256", kid = jwk.Kid, n = jwk.N, e = jwk.E } },
            });
        });
        await app.StartAsync();
        var address = app.Urls.First().Replace("[::1]", "127.0.0.1").TrimEnd('/');
        issuer = new TestOidcIssuer(app, address);
        return issuer;
    }

    /// <summary>A new signing key with a new kid; the JWKS now lists only it.</summary>
    public void Rotate() => _key = NewKey();

    private static RsaSecurityKey NewKey() => new(RSA.Create(2048)) { KeyId = Guid.NewGuid().ToString("N") };

    public string Token(string userId, string[]? roles = null, string audience = "imagepictures", string? issuer = null, TimeSpan? lifetime = null,
        IReadOnlyDictionary<string, object>? extraClaims = null)
    {
        var claims = new Dictionary<string, object> { ["sub"] = userId };
        foreach (var (name, value) in extraClaims ?? new Dictionary<string, object>()) claims[name] = value;
        if (roles is { Length: > 0 }) claims["role"] = roles.Length == 1 ? roles[0] : roles;
        return new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = issuer ?? Issuer,
            Audience = audience,
            Claims = claims,
            Expires = DateTime.UtcNow + (lifetime ?? TimeSpan.FromHours(1)),
            SigningCredentials = new SigningCredentials(_key, SecurityAlgorithms.RsaSha256),
        });
    }

    /// <summary>Same claims, signed HS256 with a key of the attacker's choosing.</summary>
    public string Hs256Token(string userId, string key = "an-attacker-chosen-symmetric-key-of-enough-length-0123456789") =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Issuer,
            Audience = "imagepictures",
            Claims = new Dictionary<string, object> { ["sub"] = userId },
            Expires = DateTime.UtcNow.AddHours(1),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(System.Text.Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
        });

    /// <summary>An unsigned token (alg none) with this issuer's claims.</summary>
    public string AlgNoneToken(string userId)
    {
        static string B64(string s) => Base64UrlEncoder.Encode(s);
        var payload = JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["sub"] = userId, ["iss"] = Issuer, ["aud"] = "imagepictures", ["role"] = "admin",
            ["exp"] = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds(),
        });
        return $"{B64("{\"alg\":\"none\",\"typ\":\"JWT\"}")}.{B64(payload)}.";
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

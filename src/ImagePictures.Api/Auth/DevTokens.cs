using System.Security.Claims;
using System.Text;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ImagePictures.Api.Auth;

/// <summary>Mints tokens with the development key: for POST /dev/token and for the tests.</summary>
public sealed class DevTokens(IOptions<AuthOptions> options)
{
    public static SymmetricSecurityKey KeyFrom(string secret) => new(Encoding.UTF8.GetBytes(secret));

    public (string Token, DateTimeOffset ExpiresAt) Create(string userId, IEnumerable<string>? roles = null, IEnumerable<string>? scopes = null, TimeSpan? lifetime = null)
    {
        var auth = options.Value;
        var key = auth.SigningKey;
        if (string.IsNullOrWhiteSpace(key)) throw new InvalidOperationException("Auth:SigningKey is not set.");
        var now = DateTimeOffset.UtcNow;
        var expires = now + (lifetime ?? TimeSpan.FromHours(8));
        var claims = new Dictionary<string, object> { ["sub"] = userId };
        var roleList = roles?.ToArray() ?? [];
        if (roleList.Length > 0) claims["role"] = roleList.Length == 1 ? roleList[0] : roleList;
        var scopeList = scopes?.ToArray() ?? [];
        if (scopeList.Length > 0) claims["scope"] = string.Join(' ', scopeList);
        var token = new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = auth.Issuer,
            Audience = auth.Audience,
            Claims = claims,
            NotBefore = (lifetime is { } l && l < TimeSpan.Zero ? expires.AddMinutes(-5) : now.AddSeconds(-5)).UtcDateTime,
            IssuedAt = now.UtcDateTime,
            Expires = expires.UtcDateTime,
            SigningCredentials = new SigningCredentials(KeyFrom(key), SecurityAlgorithms.HmacSha256),
        });
        return (token, expires);
    }
}

using System.Text;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace ImagePictures.Api.Tests.Infrastructure;

/// <summary>Tokens an attacker might send: each must be refused with 401.</summary>
public static class ForgedTokens
{
    private static string B64(string s) => Base64UrlEncoder.Encode(Encoding.UTF8.GetBytes(s));

    public static string AlgNone(string userId) =>
        $"{B64("{\"alg\":\"none\",\"typ\":\"JWT\"}")}.{B64($"{{\"sub\":\"{userId}\",\"role\":\"admin\",\"aud\":\"imagepictures\",\"iss\":\"imagepictures\",\"exp\":{DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds()}}}")}.";

    /// <summary>A valid token whose payload was changed to another user (the signature no longer matches).</summary>
    public static string Tampered(string validToken, string otherUser)
    {
        var parts = validToken.Split('.');
        var payload = Encoding.UTF8.GetString(Base64UrlEncoder.DecodeBytes(parts[1]));
        var changed = System.Text.RegularExpressions.Regex.Replace(payload, "\"sub\":\"[^\"]*\"", $"\"sub\":\"{otherUser}\"");
        return $"{parts[0]}.{B64(changed)}.{parts[2]}";
    }

    public static string ForeignKey(string userId) => Sign(userId, "a-completely-different-key-that-the-service-never-saw-0123456789", "imagepictures");

    public static string WrongAudience(string userId, string devKey) => Sign(userId, devKey, "some-other-service");

    private static string Sign(string userId, string key, string audience) =>
        new JsonWebTokenHandler().CreateToken(new SecurityTokenDescriptor
        {
            Issuer = "imagepictures",
            Audience = audience,
            Claims = new Dictionary<string, object> { ["sub"] = userId },
            Expires = DateTime.UtcNow.AddHours(1),
            SigningCredentials = new SigningCredentials(new SymmetricSecurityKey(Encoding.UTF8.GetBytes(key)), SecurityAlgorithms.HmacSha256),
        });
}

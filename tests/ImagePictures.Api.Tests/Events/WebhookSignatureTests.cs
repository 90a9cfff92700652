using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ImagePictures.Api.Events;

namespace ImagePictures.Api.Tests.Events;

/// <summary>
/// The signatures that the StandardWebhooks library makes for us are, byte for byte, the HMAC-SHA256
/// of "{id}.{timestamp}.{body}" over the body's exact bytes, as the receiver's own check computes it.
/// </summary>
[Trait("Category", "Unit")]
public class WebhookSignatureTests
{
    private static string Expected(string secret, string id, long timestamp, byte[] body)
    {
        var key = Convert.FromBase64String(secret["whsec_".Length..]);
        var signed = Encoding.UTF8.GetBytes($"{id}.{timestamp.ToString(CultureInfo.InvariantCulture)}.").Concat(body).ToArray();
        return "v1," + Convert.ToBase64String(HMACSHA256.HashData(key, signed));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Ada's avatar")]
    [InlineData("Zoë – 頭像 – 🙂")]
    [InlineData("lone \ud800 surrogate")]
    public void EventJsonIsSignedOverItsExactBytes(string title)
    {
        var secret = WebhookSignature.NewSecret();
        var body = JsonSerializer.SerializeToUtf8Bytes(new { seq = 42, type = "PictureUpdated", data = new { title } });
        var signature = WebhookSignature.Sign(secret, "42", 1_765_000_000, body);
        Assert.Equal(Expected(secret, "42", 1_765_000_000, body), signature);
        Assert.True(WebhookReceiver.Verify(secret, "42", 1_765_000_000, Encoding.UTF8.GetString(body), signature));
    }

    [Fact]
    public void ALargeBodyIsSignedAsWell()
    {
        var secret = WebhookSignature.NewSecret();
        var body = JsonSerializer.SerializeToUtf8Bytes(new { title = new string('x', 400_000) });
        Assert.Equal(Expected(secret, "7", 1, body), WebhookSignature.Sign(secret, "7", 1, body));
    }
}

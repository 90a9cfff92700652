using ImagePictures.Api.Tests.Infrastructure;

namespace ImagePictures.Api.Tests;

/// <summary>An allowed origin that is not an origin stops the start, naming the entry.</summary>
[Trait("Category", "Api")]
public class OriginSettingsStartTests
{
    private static async Task<string> StartFailure(string key, string value)
    {
        await using var app = new PicturesApplication();
        app.With(key, value);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => app.InitializeAsync());
        return error.ToString();
    }

    [Theory]
    [InlineData("Realtime:AllowedOrigins:0")]
    [InlineData("Cors:AllowedOrigins:0")]
    public async Task AnOriginWithAPathStopsTheStart(string key) =>
        Assert.Contains($"{key}: expected an origin such as https://app.example.com (scheme, host and optional port; no path).",
            await StartFailure(key, "https://app.example.com/avatars/"));
}

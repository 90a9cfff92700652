using System.Net;
using ImagePictures.Api.Tests.Infrastructure;

namespace ImagePictures.Api.Tests.Realtime;

public sealed class OriginRestrictedApplication : PicturesApplication
{
    public OriginRestrictedApplication() => With("Realtime:AllowedOrigins:0", "https://app.example");
}

[Trait("Category", "Api")]
public class OriginTests(OriginRestrictedApplication app) : IClassFixture<OriginRestrictedApplication>
{
    private async Task<HttpResponseMessage> Negotiate(string? origin)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{RealtimeKit.Hub}/negotiate?negotiateVersion=1");
        request.Headers.Authorization = new("Bearer", app.Token("or-user"));
        if (origin is not null) request.Headers.TryAddWithoutValidation("Origin", origin);
        return await app.CreateClient().SendAsync(request);
    }

    [Fact]
    public async Task NegotiateFromAForeignOriginIsRefused()
    {
        Assert.Equal(HttpStatusCode.Forbidden, (await Negotiate("https://evil.example")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await Negotiate("null")).StatusCode);
        var allowed = await Negotiate("https://app.example");
        Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
        Assert.Equal("https://app.example", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Equal(HttpStatusCode.OK, (await Negotiate(null)).StatusCode); // not a browser
        Assert.Equal(HttpStatusCode.OK, (await Negotiate("http://localhost")).StatusCode); // same origin (the test server's)
    }

    [Fact]
    public async Task WebSocketFromAForeignOriginIsRefused()
    {
        var negotiate = await Negotiate(null);
        var body = System.Text.Json.JsonDocument.Parse(await negotiate.Content.ReadAsStringAsync()).RootElement;
        var connectionToken = body.GetProperty("connectionToken").GetString();
        var ws = app.Server.CreateWebSocketClient();
        ws.ConfigureRequest = r => r.Headers.Origin = "https://evil.example";
        var uri = new Uri(app.Server.BaseAddress, $"{RealtimeKit.Hub}?id={connectionToken}&access_token={app.Token("or-user")}");
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => ws.ConnectAsync(new UriBuilder(uri) { Scheme = "ws" }.Uri, default));
        Assert.Contains("403", e.Message);

        await using var fine = await RecordingHubConnection.ConnectAsync(app.Server, RealtimeKit.Hub, app.Token("or-user"));
        Assert.False(fine.Closed.IsCompleted);
    }

    [Fact]
    public async Task PreflightForAnAllowedOriginIsAnswered()
    {
        using var request = new HttpRequestMessage(HttpMethod.Options, $"{RealtimeKit.Hub}/negotiate?negotiateVersion=1");
        request.Headers.TryAddWithoutValidation("Origin", "https://app.example");
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Method", "POST");
        request.Headers.TryAddWithoutValidation("Access-Control-Request-Headers", "authorization,x-requested-with");
        var response = await app.CreateClient().SendAsync(request);
        Assert.True(response.IsSuccessStatusCode, response.StatusCode.ToString());
        Assert.Equal("https://app.example", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
    }
}

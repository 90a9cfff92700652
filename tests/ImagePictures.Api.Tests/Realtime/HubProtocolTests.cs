using System.Net;
using ImagePictures.Api.Tests.Infrastructure;
using HubException = Microsoft.AspNetCore.SignalR.HubException;
using static ImagePictures.Api.Tests.Realtime.RealtimeKit;

namespace ImagePictures.Api.Tests.Realtime;

/// <summary>How the hub answers calls it cannot serve (moved here from the retired home-made client's tests).</summary>
[Trait("Category", "Api")]
public class HubProtocolTests(PicturesApplication app) : IClassFixture<PicturesApplication>
{
    [Fact]
    public async Task UnknownMethodsAndWrongArgumentsFailThatCallOnly()
    {
        await using var hub = await ConnectAsync(app, "hp-caller");
        Assert.False(string.IsNullOrEmpty(hub.ConnectionId));

        var unknown = await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync("NoSuchMethod", 1));
        Assert.Contains("NoSuchMethod", unknown.Message);
        await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync("Watch"));
        await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync("Watch", new[] { "hp-a" }, new[] { "hp-b" }));

        // The connection survives failed calls and still delivers events.
        await hub.Watch("hp-watched");
        Assert.False(hub.Closed.IsCompleted);
        await UploadAsync(app, "hp-watched", activate: true);
        await hub.Expect(EventTypes.ActivePictureChanged, "hp-watched");
    }

    [Fact]
    public async Task UnknownHubPathIsNotFound()
    {
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => RecordingHubConnection.ConnectAsync(app.Server, "/hubs/nope", app.Token("hp-caller")));
        Assert.Equal(HttpStatusCode.NotFound, e.StatusCode);
    }
}

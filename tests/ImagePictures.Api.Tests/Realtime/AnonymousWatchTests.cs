using System.Net;
using System.Text.Json;
using ImagePictures.Api.Realtime;
using ImagePictures.Api.Tests.Infrastructure;
using HubException = Microsoft.AspNetCore.SignalR.HubException;
using static ImagePictures.Api.Tests.Realtime.RealtimeKit;

namespace ImagePictures.Api.Tests.Realtime;

public sealed class AnonymousWatchApplication : PicturesApplication
{
    public AnonymousWatchApplication() => With("Realtime:MaxWatchedUsers", "3").With("Realtime:MaxAnonymousConnectionsPerAddress", "3");
}

public sealed class NoAnonymousWatchApplication : PicturesApplication
{
    public NoAnonymousWatchApplication() => With("Realtime:AnonymousWatch", "false");
}

/// <summary>
/// A connection without a token: it may watch, hears the public shape of avatar changes only, and is
/// capped per address. Signed-in watchers other than the owner and admins hear the public shape too.
/// </summary>
[Trait("Category", "Api")]
public class AnonymousWatchTests(AnonymousWatchApplication app) : IClassFixture<AnonymousWatchApplication>
{
    private async Task<RecordingHubConnection> ConnectAnonymousAsync()
    {
        var client = await RecordingHubConnection.ConnectAsync(app.Server, Hub, null);
        await client.Unwatch(); // a completed invocation means OnConnected has run
        return client;
    }

    private async Task<HttpResponseMessage> NegotiateAnonymous() =>
        await app.CreateClient().PostAsync($"{Hub}/negotiate?negotiateVersion=1", null);

    [Fact]
    public async Task AnonymousWatcherHearsOnlyTheWatchedUsersAvatarChangesInThePublicShape()
    {
        await using var anonymous = await ConnectAnonymousAsync();
        await anonymous.Watch("an-alice");

        var picture = await UploadAsync(app, "an-alice", activate: true);
        var message = await anonymous.NextAsync(EventTypes.ActivePictureChanged, Soon);
        var json = message.Arguments[0];
        Assert.Equal(["seq", "type", "userId", "pictureId", "occurredAt", "picture"], json.EnumerateObject().Select(p => p.Name));
        var shown = json.GetProperty("picture");
        // No title, no sizes in bytes, no flags: only what /avatars and /pictures show anyway.
        Assert.Equal(["id", "userId", "contentHash", "urls"], shown.EnumerateObject().Select(p => p.Name));
        Assert.Equal(picture.Id, shown.GetProperty("id").GetGuid());
        Assert.Equal(picture.ContentHash, shown.GetProperty("contentHash").GetString());
        Assert.Equal(picture.Urls["64"], shown.GetProperty("urls").GetProperty("64").GetString());

        // Owner-only events (upload, rename, trash of a non-active picture) and other users' changes never reach it.
        var second = await UploadAsync(app, "an-alice");
        await RenameAsync(app, "an-alice", picture.Id, "private title");
        Assert.Equal(HttpStatusCode.OK, (await app.ClientFor("an-alice").DeleteAsync($"/api/users/an-alice/pictures/{second.Id}")).StatusCode);
        await UploadAsync(app, "an-unwatched", activate: true);
        Assert.True(await anonymous.NothingArrivesAsync(TimeSpan.FromSeconds(1)));

        Assert.Equal(HttpStatusCode.OK, (await app.ClientFor("an-alice").DeleteAsync("/api/users/an-alice")).StatusCode);
        var deleted = (await anonymous.NextAsync(EventTypes.UserPicturesDeleted, Soon)).Arguments[0];
        Assert.Equal(JsonValueKind.Null, deleted.GetProperty("picture").ValueKind);
        Assert.Equal([EventTypes.ActivePictureChanged, EventTypes.UserPicturesDeleted], anonymous.Received.Select(m => m.Target));

        // Unwatched: nothing more.
        await anonymous.Unwatch("an-alice");
        await UploadAsync(app, "an-alice", activate: true);
        Assert.True(await anonymous.NothingArrivesAsync(TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task ASignedInWatcherWhoIsNeitherTheOwnerNorAnAdminGetsThePublicShape()
    {
        await using var watcher = await ConnectAsync(app, "an-bob");
        await watcher.Watch("an-tracy");
        var picture = await UploadAsync(app, "an-tracy");
        await RenameAsync(app, "an-tracy", picture.Id, "tracy's private title");
        await ActivateAsync(app, "an-tracy", picture.Id);

        var shown = (await watcher.NextAsync(EventTypes.ActivePictureChanged, Soon)).Arguments[0].GetProperty("picture");
        Assert.Equal(["id", "userId", "contentHash", "urls"], shown.EnumerateObject().Select(p => p.Name));
        Assert.Equal(picture.Id, shown.GetProperty("id").GetGuid());

        Assert.Equal(HttpStatusCode.OK, (await app.ClientFor("an-tracy").DeleteAsync("/api/users/an-tracy")).StatusCode);
        var deleted = (await watcher.NextAsync(EventTypes.UserPicturesDeleted, Soon)).Arguments[0];
        Assert.Equal(["seq", "type", "userId", "pictureId", "occurredAt", "picture"], deleted.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task AnAdminWatcherAndTheOwnerGetTheFullPicture()
    {
        await using var admin = await ConnectAsync(app, "an-admin", ["admin"]);
        await admin.Watch("an-carol");
        await using var owner = await ConnectAsync(app, "an-carol");
        var picture = await UploadAsync(app, "an-carol");
        await RenameAsync(app, "an-carol", picture.Id, "carol's title");
        await ActivateAsync(app, "an-carol", picture.Id);

        var toAdmin = await admin.Expect(EventTypes.ActivePictureChanged, "an-carol");
        Assert.Equal("carol's title", toAdmin.Picture!.Title);
        Assert.True(toAdmin.Picture.Bytes > 0);
        var toOwner = await owner.Expect(EventTypes.ActivePictureChanged, "an-carol");
        Assert.Equal("carol's title", toOwner.Picture!.Title);
    }

    [Fact]
    public async Task TheWatchLimitPerConnectionAppliesToAnonymousConnections()
    {
        await using var anonymous = await ConnectAnonymousAsync();
        await anonymous.Watch("an-w1", "an-w2", "an-w3");
        var refused = await Assert.ThrowsAsync<HubException>(() => anonymous.Watch("an-w4"));
        Assert.Contains("at most 3", refused.Message);
        await anonymous.Unwatch("an-w1");
        await anonymous.Watch("an-w4"); // room again
    }

    [Fact]
    public async Task AnonymousCallersCannotReadTheEventsRoute()
    {
        var response = await app.ClientWithToken(null).GetAsync("/api/users/an-alice/events?after=0");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task ABadTokenIsStillRefusedRatherThanTreatedAsAnonymous()
    {
        var response = await app.CreateClient().PostAsync($"{Hub}/negotiate?negotiateVersion=1&access_token={app.Token("an-x", lifetime: TimeSpan.FromMinutes(-10))}", null);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task AnAddressHoldsAtMostTheConfiguredAnonymousConnections()
    {
        // Negotiated while there was room; its WebSocket comes after the cap is reached.
        var early = JsonDocument.Parse(await (await NegotiateAnonymous()).Content.ReadAsStringAsync()).RootElement.GetProperty("connectionToken").GetString();

        var open = new List<RecordingHubConnection>();
        try
        {
            for (var i = 0; i < 3; i++) open.Add(await ConnectAnonymousAsync());

            var negotiate = await NegotiateAnonymous();
            Assert.Equal(HttpStatusCode.TooManyRequests, negotiate.StatusCode);
            Assert.Equal("application/problem+json", negotiate.Content.Headers.ContentType?.MediaType);
            Assert.True(negotiate.Headers.RetryAfter is not null);

            var ws = app.Server.CreateWebSocketClient();
            var connect = await Assert.ThrowsAsync<InvalidOperationException>(() =>
                ws.ConnectAsync(new UriBuilder(new Uri(app.Server.BaseAddress, $"{Hub}?id={early}")) { Scheme = "ws" }.Uri, default));
            Assert.Contains("429", connect.Message);

            // Signed-in users are not counted against the address.
            await using (var signedIn = await ConnectAsync(app, "an-capped")) Assert.False(signedIn.Closed.IsCompleted);

            // One closes: room for one more.
            await open[0].DisposeAsync();
            open.RemoveAt(0);
            await Eventually(async () => (await NegotiateAnonymous()).StatusCode != HttpStatusCode.TooManyRequests, "the closed connection's place was given back");
            open.Add(await ConnectAnonymousAsync());
        }
        finally
        {
            foreach (var c in open) await c.DisposeAsync();
        }
    }
}

[Trait("Category", "Api")]
public class NoAnonymousWatchTests(NoAnonymousWatchApplication app) : IClassFixture<NoAnonymousWatchApplication>
{
    [Fact]
    public async Task WithAnonymousWatchOffATokenIsRequired()
    {
        var response = await app.CreateClient().PostAsync($"{Hub}/negotiate?negotiateVersion=1", null);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        await using var signedIn = await RecordingHubConnection.ConnectAsync(app.Server, Hub, app.Token("naw-user"));
        Assert.False(signedIn.Closed.IsCompleted);
    }
}

using System.Diagnostics;
using System.Net;
using System.Text.Json;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Realtime;
using ImagePictures.Api.Tests.Infrastructure;
using HubException = Microsoft.AspNetCore.SignalR.HubException;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using static ImagePictures.Api.Tests.Realtime.RealtimeKit;

namespace ImagePictures.Api.Tests.Realtime;

[Trait("Category", "Api")]
public class HubEventTests(PicturesApplication app) : IClassFixture<PicturesApplication>
{
    private PictureService Pictures => app.Services.GetRequiredService<PictureService>();

    [Fact]
    public async Task OwnerHearsEveryEventTypeOfItsOwn()
    {
        await using var hub = await ConnectAsync(app, "rt-owner");

        var picture = await UploadAsync(app, "rt-owner", activate: true);
        var uploaded = await hub.Expect(EventTypes.PictureUploaded, "rt-owner");
        Assert.Equal(picture.Id, uploaded.PictureId);
        Assert.Equal(picture.Id, uploaded.Picture!.Id);
        var activated = await hub.Expect(EventTypes.ActivePictureChanged, "rt-owner");
        Assert.Equal(picture.Id, activated.PictureId);
        Assert.True(activated.Picture!.IsActive);
        Assert.True(activated.Seq > uploaded.Seq);

        await RenameAsync(app, "rt-owner", picture.Id, "Renamed");
        Assert.Equal("Renamed", (await hub.Expect(EventTypes.PictureUpdated, "rt-owner")).Picture!.Title);

        Assert.Equal(HttpStatusCode.OK, (await app.ClientFor("rt-owner").DeleteAsync($"/api/users/rt-owner/pictures/{picture.Id}")).StatusCode);
        var trashed = await hub.Expect(EventTypes.PictureTrashed, "rt-owner");
        Assert.NotNull(trashed.Picture!.DeletedAt);
        var none = await hub.Expect(EventTypes.ActivePictureChanged, "rt-owner"); // the only picture was active: now none
        Assert.Null(none.PictureId);
        Assert.Null(none.Picture);

        Assert.Equal(HttpStatusCode.OK, (await app.ClientFor("rt-owner").PostAsync($"/api/users/rt-owner/trash/{picture.Id}/restore", null)).StatusCode);
        Assert.Null((await hub.Expect(EventTypes.PictureRestored, "rt-owner")).Picture!.DeletedAt);

        Assert.NotNull(await app.Services.GetRequiredService<ImagePictures.Api.Trash.TrashService>().TrashAsync("rt-owner", picture.Id, default));
        await hub.Expect(EventTypes.PictureTrashed, "rt-owner");
        Assert.Equal(HttpStatusCode.NoContent, (await app.ClientFor("rt-owner").DeleteAsync($"/api/users/rt-owner/trash/{picture.Id}")).StatusCode);
        var purged = await hub.NextAsync(EventTypes.PicturePurged, Soon);
        Assert.Equal(picture.Id, purged.Arg<PictureEvent>().PictureId);
        // The contract's event JSON, exactly: camelCase names, picture present as null.
        var json = purged.Arguments[0];
        Assert.Equal(["seq", "type", "userId", "pictureId", "occurredAt", "picture"], json.EnumerateObject().Select(p => p.Name));
        Assert.Equal(JsonValueKind.Null, json.GetProperty("picture").ValueKind);
        Assert.EndsWith("Z", json.GetProperty("occurredAt").GetString());

        await UploadAsync(app, "rt-owner");
        await hub.Expect(EventTypes.PictureUploaded, "rt-owner");
        Assert.Equal(HttpStatusCode.OK, (await app.ClientFor("rt-owner").DeleteAsync("/api/users/rt-owner")).StatusCode);
        var deleted = await hub.Expect(EventTypes.UserPicturesDeleted, "rt-owner");
        Assert.Null(deleted.PictureId);

        // Exactly once each, and nothing else.
        Assert.Equal(
            [EventTypes.PictureUploaded, EventTypes.ActivePictureChanged, EventTypes.PictureUpdated, EventTypes.PictureTrashed,
             EventTypes.ActivePictureChanged, EventTypes.PictureRestored, EventTypes.PictureTrashed, EventTypes.PicturePurged,
             EventTypes.PictureUploaded, EventTypes.UserPicturesDeleted],
            (await hub.ReceivedBeforeMarkerAsync(app, "rt-owner-marker")).Select(m => m.Target));
    }

    [Fact]
    public async Task WatcherHearsOnlyAvatarChangesOfWatchedUsers()
    {
        await using var watcher = await ConnectAsync(app, "rt-watcher");
        await watcher.Watch("rt-watched");

        var first = await UploadAsync(app, "rt-watched", activate: true);
        var changed = await watcher.Expect(EventTypes.ActivePictureChanged, "rt-watched");
        Assert.Equal(first.Id, changed.PictureId);
        await RenameAsync(app, "rt-watched", first.Id, "not for watchers");
        await UploadAsync(app, "rt-unwatched", activate: true);
        Assert.Equal([EventTypes.ActivePictureChanged], (await watcher.ReceivedBeforeMarkerAsync(app, "rt-watcher-marker")).Select(m => m.Target));

        Assert.Equal(HttpStatusCode.OK, (await app.ClientFor("rt-watched").DeleteAsync("/api/users/rt-watched")).StatusCode);
        await watcher.Expect(EventTypes.UserPicturesDeleted, "rt-watched");

        await watcher.Unwatch("rt-watched");
        await UploadAsync(app, "rt-watched", activate: true);
        Assert.Equal([EventTypes.UserPicturesDeleted], (await watcher.ReceivedBeforeMarkerAsync(app, "rt-watcher-marker")).Select(m => m.Target));
    }

    [Fact]
    public async Task WatchingOneselfDoesNotDoubleEvents()
    {
        await using var hub = await ConnectAsync(app, "rt-self");
        await hub.Watch("rt-self");
        await UploadAsync(app, "rt-self", activate: true);
        await hub.Expect(EventTypes.ActivePictureChanged, "rt-self");
        Assert.Single(await hub.ReceivedBeforeMarkerAsync(app, "rt-self-marker"), m => m.Target == EventTypes.ActivePictureChanged);
    }

    [Fact]
    public async Task WatchIsCappedPerConnectionAndValidatesIds()
    {
        await using var hub = await ConnectAsync(app, "rt-capped");
        var ids = Enumerable.Range(0, 1001).Select(i => $"u{i}").ToArray();
        await Assert.ThrowsAsync<HubException>(() => hub.Watch(ids));
        await hub.Watch(ids[..600]);
        await hub.Watch(ids[..600]); // the same ids again do not count twice
        await Assert.ThrowsAsync<HubException>(() => hub.Watch(ids[600..1001]));
        await hub.Watch(ids[600..1000]); // exactly 1000
        await hub.Unwatch(ids[..10]);
        await hub.Watch(ids[1000..]);
        await Assert.ThrowsAsync<HubException>(() => hub.Watch("not valid!"));
        await Assert.ThrowsAsync<HubException>(() => hub.InvokeAsync("Watch", (object?)null));
        Assert.False(hub.Closed.IsCompleted); // errors are per invocation; the connection stays
    }

    [Fact]
    public async Task WatchesAreForgottenWhenTheConnectionEnds()
    {
        var registry = app.Services.GetRequiredService<WatchRegistry>();
        var hub = await ConnectAsync(app, "rt-forget");
        await hub.Watch("a1", "a2");
        Assert.Equal(2, registry.Count(hub.ConnectionId));
        await hub.DisposeAsync();
        await Eventually(() => registry.Count(hub.ConnectionId) == 0, "the ended connection's watches were not forgotten");
    }

    [Fact]
    public async Task ExpiredTokenIsRefused()
    {
        // Without any token the hub admits an anonymous watcher (AnonymousWatchTests); an expired one is never that.
        var expired = await Assert.ThrowsAsync<HttpRequestException>(() =>
            RecordingHubConnection.ConnectAsync(app.Server, Hub, app.Token("rt-anon", lifetime: TimeSpan.FromMinutes(-10))));
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
    }

    [Fact]
    public async Task ExpiringTokenEndsTheConnection()
    {
        // The server ends it once the token has expired, and not before (how soon after is not this test's business).
        var expiresAt = DateTime.UtcNow.AddSeconds(3);
        await using var hub = await RecordingHubConnection.ConnectAsync(app.Server, Hub, app.Token("rt-expiring", lifetime: TimeSpan.FromSeconds(3)));
        await hub.InvokeAsync("Unwatch", (object)Array.Empty<string>()); // open and answering
        await hub.Closed.WaitAsync(Wait.Patience);
        Assert.True(DateTime.UtcNow >= expiresAt.AddSeconds(-1), "closed before the token expired"); // exp has whole seconds
    }

    [Fact]
    public async Task FailedUploadLeavesNoEvent()
    {
        await using var hub = await ConnectAsync(app, "rt-failed");
        var notAnImage = await app.ClientFor("rt-failed").PostAsync("/api/users/rt-failed/pictures?activate=true",
            TestUploads.Form("this is plain text, not a picture"u8.ToArray(), "note.png"));
        Assert.Contains((int)notAnImage.StatusCode, new[] { 415, 422 });
        var truncated = await app.ClientFor("rt-failed").PostAsync("/api/users/rt-failed/pictures",
            TestUploads.Form(TestUploads.DefaultPng()[..200]));
        Assert.Contains((int)truncated.StatusCode, new[] { 415, 422 });
        Assert.Empty(await hub.ReceivedBeforeMarkerAsync(app, "rt-failed-marker"));
        Assert.Empty(await EventsAsync(app, "rt-failed"));
    }

    [Fact]
    public async Task SeqOnlyGrows()
    {
        await using var hub = await ConnectAsync(app, "rt-seq");
        var a = await UploadAsync(app, "rt-seq", activate: true);
        var b = await UploadAsync(app, "rt-seq");
        await RenameAsync(app, "rt-seq", a.Id, "one");
        await ActivateAsync(app, "rt-seq", b.Id);
        await RenameAsync(app, "rt-seq", b.Id, "two");
        await hub.Expect(EventTypes.PictureUpdated, "rt-seq");
        await hub.Expect(EventTypes.PictureUpdated, "rt-seq");

        var live = hub.Received.Select(m => m.Arg<PictureEvent>().Seq).ToArray();
        Assert.Equal(6, live.Length);
        Assert.True(live.Zip(live.Skip(1)).All(p => p.First < p.Second), string.Join(",", live));
        var stored = (await EventsAsync(app, "rt-seq")).Select(e => e.Seq).ToArray();
        Assert.Equal(live, stored);
    }

    [Fact]
    public async Task EventsRouteReturnsExactlyWhatADroppedConnectionMissed()
    {
        var hub = await ConnectAsync(app, "rt-dropped");
        var picture = await UploadAsync(app, "rt-dropped");
        var lastSeq = (await hub.Expect(EventTypes.PictureUploaded, "rt-dropped")).Seq;
        await hub.DisposeAsync();

        await RenameAsync(app, "rt-dropped", picture.Id, "while away");
        await ActivateAsync(app, "rt-dropped", picture.Id);
        var second = await UploadAsync(app, "rt-dropped");

        await using var again = await ConnectAsync(app, "rt-dropped");
        var missed = await EventsAsync(app, "rt-dropped", after: lastSeq);
        Assert.Equal([EventTypes.PictureUpdated, EventTypes.ActivePictureChanged, EventTypes.PictureUploaded], missed.Select(e => e.Type));
        Assert.Equal(second.Id, missed[^1].PictureId);
        Assert.All(missed, e => Assert.True(e.Seq > lastSeq));
        Assert.Empty(await EventsAsync(app, "rt-dropped", after: missed[^1].Seq));
        Assert.Equal(missed[..2].Select(e => e.Seq), (await EventsAsync(app, "rt-dropped", after: lastSeq, limit: 2)).Select(e => e.Seq));
        // Nothing older is replayed live; an event committed just before the reconnect may still arrive live
        // (the relay is asynchronous), and it is then one of the missed ones, which a client dedupes by seq.
        Assert.All(await again.ReceivedBeforeMarkerAsync(app, "rt-dropped-marker"), m => Assert.Contains(m.Arg<PictureEvent>().Seq, missed.Select(e => e.Seq)));
    }

    [Fact]
    public async Task EventsRouteChecksAccessAndArguments()
    {
        await UploadAsync(app, "rt-route");
        var owner = app.ClientFor("rt-route");
        Assert.Equal(HttpStatusCode.Forbidden, (await app.ClientFor("rt-mallory").GetAsync("/api/users/rt-route/events")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.ClientWithToken(null).GetAsync("/api/users/rt-route/events")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Admin().GetAsync("/api/users/rt-route/events")).StatusCode);
        Assert.Single(await EventsAsync(app, "rt-route"));
        foreach (var query in new[] { "limit=0", "limit=1001", "limit=abc", "after=-1", "after=x" })
        {
            var response = await owner.GetAsync($"/api/users/rt-route/events?{query}");
            Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{query}: {response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal(HttpStatusCode.BadRequest, (await owner.GetAsync("/api/users/bad%20id/events")).StatusCode);
        var me = await owner.GetAsync("/api/users/me/events?limit=1000");
        Assert.Equal(HttpStatusCode.OK, me.StatusCode);
        var raw = JsonDocument.Parse(await me.Content.ReadAsStringAsync()).RootElement[0];
        Assert.Equal(["seq", "type", "userId", "pictureId", "occurredAt", "picture"], raw.EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task RelayReconnectsAndCatchesUpAfterItsConnectionDrops()
    {
        var relay = app.Services.GetRequiredService<EventRelay>();
        await using var hub = await ConnectAsync(app, "rt-relay");
        var pid = relay.ListenerPid!.Value;
        var connects = relay.Connects;
        await using (var admin = new NpgsqlConnection(app.ConnectionString))
        {
            await admin.OpenAsync();
            await using var kill = new NpgsqlCommand("SELECT pg_terminate_backend(@pid)", admin);
            kill.Parameters.AddWithValue("pid", pid);
            Assert.True((bool)(await kill.ExecuteScalarAsync())!);
        }
        // Changes made while the relay is down arrive after it reconnects, once each.
        var picture = await UploadAsync(app, "rt-relay", activate: true);
        Assert.Equal(picture.Id, (await hub.Expect(EventTypes.PictureUploaded, "rt-relay", TimeSpan.FromSeconds(20))).PictureId);
        await hub.Expect(EventTypes.ActivePictureChanged, "rt-relay");
        Assert.True(relay.Connects > connects);
        Assert.NotEqual(pid, relay.ListenerPid);
        await RenameAsync(app, "rt-relay", picture.Id, "after reconnect");
        await hub.Expect(EventTypes.PictureUpdated, "rt-relay");
        Assert.Equal(3, (await hub.ReceivedBeforeMarkerAsync(app, "rt-relay-marker")).Length);
    }
}

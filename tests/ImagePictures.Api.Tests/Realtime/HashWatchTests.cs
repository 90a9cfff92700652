using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ImagePictures.Api.Realtime;
using ImagePictures.Api.Tests.Gravatar;
using ImagePictures.Api.Tests.Infrastructure;
using HubException = Microsoft.AspNetCore.SignalR.HubException;
using static ImagePictures.Api.Tests.Realtime.RealtimeKit;

namespace ImagePictures.Api.Tests.Realtime;

/// <summary>WatchHashes: a watcher of an e-mail hash hears the avatar behind it change, and never learns whose it is.</summary>
[Trait("Category", "Api")]
public class HashWatchTests(PicturesApplication app) : IClassFixture<PicturesApplication>
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    private static async Task<RecordingHubConnection> ConnectAnonymousAsync(PicturesApplication app)
    {
        var client = await RecordingHubConnection.ConnectAsync(app.Server, Hub, null);
        await client.Unwatch(); // a completed invocation means OnConnected has run
        return client;
    }

    [Fact]
    public async Task AHashWatcherHearsTheAvatarChangeWithTheHashAsUserIdAndNoUserIdAnywhere()
    {
        const string user = "hw-alice", email = "Hash.Watch@Example.com";
        Assert.Equal(HttpStatusCode.OK, (await app.ClientFor(user).PutAsJsonAsync($"/api/users/{user}/emails", new { emails = new[] { email } })).StatusCode);
        var md5 = GravatarTests.Md5(email);
        var sha256 = GravatarTests.Sha256(email);
        // The registration changes /avatar/{hash} too (its watchers hear ActivePictureChanged, picture null): let the relay
        // deliver it before watching, so that the first events heard are the upload's (a fresh-clone run heard it first).
        await app.RelayCaughtUpAsync();

        await using var watcher = await ConnectAnonymousAsync(app);
        await watcher.InvokeAsync("WatchHashes", (object)new[] { md5.ToUpperInvariant(), sha256 }); // either case, both forms

        var picture = await UploadAsync(app, user, activate: true);
        var heard = new[] { await watcher.NextAsync(EventTypes.ActivePictureChanged, Patience), await watcher.NextAsync(EventTypes.ActivePictureChanged, Patience) };
        Assert.Equal(new[] { md5, sha256 }.Order(StringComparer.Ordinal), heard.Select(m => m.Arguments[0].GetProperty("userId").GetString()!).Order(StringComparer.Ordinal));
        foreach (var m in heard)
        {
            var json = m.Arguments[0];
            Assert.Equal(["seq", "type", "userId", "occurredAt", "picture"], json.EnumerateObject().Select(p => p.Name));
            Assert.Equal(["contentHash"], json.GetProperty("picture").EnumerateObject().Select(p => p.Name));
            Assert.Equal(picture.ContentHash, json.GetProperty("picture").GetProperty("contentHash").GetString());
            Assert.DoesNotContain(user, json.GetRawText());
            Assert.DoesNotContain(picture.Id.ToString(), json.GetRawText());
        }

        // The address removed: /avatar/{hash} changes, so its watchers hear it (picture null: reload), still without the user.
        Assert.Equal(HttpStatusCode.OK, (await app.ClientFor(user).PutAsJsonAsync($"/api/users/{user}/emails", new { emails = Array.Empty<string>() })).StatusCode);
        var removed = await watcher.NextAsync(EventTypes.ActivePictureChanged, Patience);
        Assert.Equal(JsonValueKind.Null, removed.Arguments[0].GetProperty("picture").ValueKind);
        Assert.DoesNotContain(user, removed.Arguments[0].GetRawText());
        Assert.DoesNotContain(watcher.Received, m => m.Target == EventTypes.EmailsChanged);

        // Registered again and the account deleted: the deletion reaches the hash watchers too.
        Assert.Equal(HttpStatusCode.OK, (await app.ClientFor(user).PutAsJsonAsync($"/api/users/{user}/emails", new { emails = new[] { email } })).StatusCode);
        await watcher.NextAsync(EventTypes.ActivePictureChanged, Patience);
        Assert.Equal(HttpStatusCode.OK, (await app.ClientFor(user).DeleteAsync($"/api/users/{user}")).StatusCode);
        var deleted = await watcher.NextAsync(EventTypes.UserPicturesDeleted, Patience);
        Assert.Contains(deleted.Arguments[0].GetProperty("userId").GetString(), new[] { md5, sha256 });
        Assert.DoesNotContain(user, deleted.Arguments[0].GetRawText());
    }

    [Fact]
    public async Task AnythingButA32Or64DigitHexHashIsRefused()
    {
        await using var watcher = await ConnectAnonymousAsync(app);
        foreach (var bad in new[] { "hw-alice", new string('a', 31), new string('g', 32), new string('a', 40) })
        {
            var error = await Assert.ThrowsAsync<HubException>(() => watcher.InvokeAsync("WatchHashes", (object)new[] { bad }));
            Assert.Contains("32 hex digits", error.Message);
        }
    }
}

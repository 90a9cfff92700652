using System.Collections.Concurrent;
using System.Net;
using ImagePictures.Api.Tests.Infrastructure;
using ImagePictures.Client;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace ImagePictures.Api.Tests.ClientLibrary;

/// <summary>ImagePictures.Client against the real service on a Kestrel port, over real PostgreSQL and storage.</summary>
[Trait("Category", "Api")]
public class ClientLibraryTests(KestrelPicturesApplication app) : IClassFixture<KestrelPicturesApplication>
{

    private ImagePicturesClient ClientAs(string? userId, string[]? roles = null, string[]? scopes = null, bool retry = false, HttpMessageHandler? handler = null)
    {
        var options = new ImagePicturesClientOptions
        {
            BaseAddress = new Uri(app.BaseUrl),
            AccessTokenProvider = _ => ValueTask.FromResult(userId is null ? null : app.Token(userId, roles, scopes)),
            RetryWhenBusy = retry,
        };
        return new ImagePicturesClient(handler is null ? new HttpClient() : new HttpClient(handler), options);
    }

    private static MemoryStream Jpeg(double[] colour) => new(TestImages.SolidJpeg(400, 300, colour));

    [Fact]
    public async Task EveryRouteAnswersWithItsTypedResult()
    {
        const string user = "cl-typed";
        var signUp = ClientAs("signup-service", scopes: ["pictures:provision"]);
        var first = await signUp.CreateDefaultPictureAsync(user);
        Assert.True(first.Created);
        Assert.True(first.Picture.IsDefault);
        var again = await signUp.CreateDefaultPictureAsync(user);
        Assert.False(again.Created);
        Assert.Equal(first.Picture.Id, again.Picture.Id);

        var me = ClientAs(user);
        var reported = new List<UploadProgress>();
        var image = Jpeg(TestImages.Red);
        var uploaded = await me.UploadPictureAsync(user, image, "red.jpg", title: "Red", activate: true, progress: new SyncProgress(reported.Add));
        Assert.Equal("Red", uploaded.Title);
        Assert.True(uploaded.IsActive);
        Assert.Equal(512, uploaded.Width);
        Assert.NotEmpty(reported);
        Assert.Equal(image.Length, reported[^1].BytesSent);
        Assert.Equal(image.Length, reported[^1].TotalBytes);

        Assert.Equal([uploaded.Id, first.Picture.Id], (await me.ListPicturesAsync(user)).Select(p => p.Id));
        Assert.Equal(uploaded.ContentHash, (await me.GetPictureAsync(user, uploaded.Id)).ContentHash);
        Assert.Equal("Renamed", (await me.RenamePictureAsync(user, uploaded.Id, "Renamed")).Title);
        Assert.Null((await me.RenamePictureAsync(user, uploaded.Id, null)).Title);
        Assert.Equal(uploaded.Id, (await me.GetActivePictureAsync("me"))!.Id);
        Assert.True((await me.SetActivePictureAsync(user, first.Picture.Id)).IsActive);

        var trashed = await me.TrashPictureAsync(user, uploaded.Id);
        Assert.NotNull(trashed.DeletedAt);
        Assert.NotNull(trashed.PurgeAfter);
        Assert.Equal([uploaded.Id], (await me.ListTrashAsync(user)).Select(p => p.Id));
        Assert.Null((await me.RestorePictureAsync(user, uploaded.Id)).DeletedAt);
        await me.TrashPictureAsync(user, uploaded.Id);
        await me.PurgePictureAsync(user, uploaded.Id);
        Assert.Empty(await me.ListTrashAsync(user));

        var blue = await me.UploadPictureAsync(user, Jpeg(TestImages.Blue), "blue.jpg");
        await me.TrashPictureAsync(user, blue.Id);
        Assert.Equal(new CleanupCounts(1, 1, 0), await me.EmptyTrashAsync(user));

        // Two-step upload: stage, preview, commit with a crop; stage and abandon.
        var staged = await me.StageUploadAsync(Jpeg(TestImages.Green), "green.jpg");
        Assert.Equal((400, 300), (staged.Width, staged.Height));
        var (previewBytes, previewType) = await me.GetUploadPreviewAsync(staged.Id);
        Assert.NotEmpty(previewBytes);
        Assert.StartsWith("image/", previewType);
        var committed = await me.CommitUploadAsync(staged.Id, activate: true, crop: new CropJson(0, 0, 300, 300));
        Assert.True(committed.IsActive);
        var abandoned = await me.StageUploadAsync(Jpeg(TestImages.Green), "green.jpg");
        await me.AbandonUploadAsync(abandoned.Id);

        // Events, oldest first, typed.
        var events = await me.GetEventsAsync(user);
        Assert.Equal(EventTypes.PictureUploaded, events[0].Type);
        Assert.Contains(events, e => e.Type == EventTypes.PicturePurged && e.PictureId == uploaded.Id);
        Assert.Equal(events.Select(e => e.Seq).Order(), events.Select(e => e.Seq));
        Assert.Equal(2, (await me.GetEventsAsync(user, afterSeq: events[^3].Seq)).Count);

        // Admin routes.
        var admin = ClientAs("cl-admin", roles: ["admin"]);
        var pending = await me.StageUploadAsync(Jpeg(TestImages.Red), "red.jpg");
        Assert.Contains(await admin.ListAllStagedUploadsAsync(), u => u.Id == pending.Id && u.UserId == user);
        Assert.True((await admin.CleanUpStagedUploadsAsync("list")).Found >= 1);
        Assert.Equal(1, (await admin.CleanUpStagedUploadsAsync("delete-session", uploadId: pending.Id)).Deleted);
        var jobs = await admin.ListJobsAsync();
        Assert.Contains(jobs, j => j.Name == "temp-cleanup");
        await admin.PauseJobAsync("temp-cleanup");
        Assert.True((await admin.ListJobsAsync()).Single(j => j.Name == "temp-cleanup").Paused);
        await admin.ResumeJobAsync("temp-cleanup");
        await admin.TriggerJobAsync("temp-cleanup");
        Assert.NotNull(await admin.ListJobRunsAsync("temp-cleanup", limit: 10));
        // 203.0.113.0/24 is a documentation range: public, so accepted, and never answers.
        var hook = await admin.CreateWebhookAsync(new Uri("https://203.0.113.10/cl-hook"), [EventTypes.ActivePictureChanged]);
        Assert.StartsWith("whsec_", hook.Secret);
        Assert.Equal([EventTypes.ActivePictureChanged], hook.Events!);
        var listed = (await admin.ListWebhooksAsync()).Single(w => w.Id == hook.Id);
        Assert.Equal("https://203.0.113.10/cl-hook", listed.Url);
        Assert.False(listed.Disabled);
        await admin.EnableWebhookAsync(hook.Id);
        await admin.DeleteWebhookAsync(hook.Id);
        Assert.DoesNotContain(await admin.ListWebhooksAsync(), w => w.Id == hook.Id);

        Assert.Equal(2, await signUp.DeleteUserAsync(user));
        Assert.Null(await me.GetActivePictureAsync(user));
    }

    [Fact]
    public async Task EveryErrorAnswerBecomesAnImagePicturesException()
    {
        async Task<ImagePicturesException> Refused(Func<Task> call) => await Assert.ThrowsAsync<ImagePicturesException>(call);

        var mallory = ClientAs("cl-mallory");
        var cases = new (int Status, ImagePicturesException Error)[]
        {
            (401, await Refused(() => ClientAs(null).ListPicturesAsync("cl-victim"))),
            (403, await Refused(() => mallory.ListPicturesAsync("cl-victim"))),
            (400, await Refused(() => mallory.ListPicturesAsync("bad!id"))),
            (404, await Refused(() => mallory.GetPictureAsync("me", Guid.NewGuid()))),
            (404, await Refused(() => mallory.CommitUploadAsync(Guid.NewGuid()))),
            (415, await Refused(() => mallory.UploadPictureAsync("me", new MemoryStream("<svg xmlns='http://www.w3.org/2000/svg'/>"u8.ToArray()), "x.svg"))),
            (422, await Refused(() => mallory.UploadPictureAsync("me", new MemoryStream(TestImages.SolidJpeg(50, 50, TestImages.Red)[..200]), "cut.jpg"))),
            (400, await Refused(() => ClientAs("cl-admin", roles: ["admin"]).CleanUpStagedUploadsAsync("delete-all", confirm: "yes"))),
            (404, await Refused(() => ClientAs("cl-admin", roles: ["admin"]).TriggerJobAsync("no-such-job"))),
            (404, await Refused(() => ClientAs("cl-admin", roles: ["admin"]).EnableWebhookAsync(Guid.NewGuid().ToString()))),
            (400, await Refused(() => ClientAs("cl-admin", roles: ["admin"]).CreateWebhookAsync(new Uri("ftp://example.com/hook")))),
            (403, await Refused(() => mallory.ListWebhooksAsync())),
        };
        foreach (var (status, error) in cases)
        {
            Assert.Equal(status, error.Status);
            Assert.False(string.IsNullOrWhiteSpace(error.Title), $"{status}: no title");
            Assert.False(string.IsNullOrWhiteSpace(error.Detail), $"{status}: no detail");
        }
        Assert.Null(await mallory.GetActivePictureAsync("me")); // 404 "no avatar" is an answer, not an error
    }

    [Fact]
    public async Task BusyAnswersAreRetriedAfterRetryAfterOnlyWhenAskedTo()
    {
        var busyOnce = new BusyOnce();
        var patient = ClientAs("cl-busy", retry: true, handler: busyOnce);
        var picture = await patient.UploadPictureAsync("me", Jpeg(TestImages.Blue), "blue.jpg"); // the stream is sent again
        Assert.Equal("cl-busy", picture.UserId);
        Assert.Equal(2, busyOnce.Requests);
        Assert.True(busyOnce.SecondAfter >= TimeSpan.FromSeconds(0.9), $"retried after {busyOnce.SecondAfter}");

        var impatient = ClientAs("cl-busy", handler: new BusyOnce());
        var error = await Assert.ThrowsAsync<ImagePicturesException>(() => impatient.ListPicturesAsync("me"));
        Assert.Equal(503, error.Status);
        Assert.Equal(TimeSpan.FromSeconds(1), error.RetryAfter);
    }

    [Fact]
    public async Task EventsAndWatchesSurviveAReconnectAndMissedEventsArriveExactlyOnce()
    {
        const string user = "cl-listener", watched = "cl-watched";
        var me = ClientAs(user);
        var old = await me.UploadPictureAsync(user, Jpeg(TestImages.Red), "old.jpg"); // history before the connection: never delivered
        await using var events = new ImagePicturesEvents(me);
        var received = new ConcurrentQueue<PictureEvent>();
        var uploads = new ConcurrentQueue<PictureEvent>();
        var avatarChanges = new ConcurrentQueue<PictureEvent>();
        events.EventReceived += received.Enqueue;
        events.PictureUploaded += uploads.Enqueue;
        events.ActivePictureChanged += avatarChanges.Enqueue;
        var reconnects = 0;
        events.Reconnected += () => { Interlocked.Increment(ref reconnects); return Task.CompletedTask; };
        await events.StartAsync();
        await events.WatchAsync(watched);

        var live = await me.UploadPictureAsync(user, Jpeg(TestImages.Blue), "live.jpg");
        await Eventually(() => uploads.Any(e => e.PictureId == live.Id), "the own upload did not arrive");
        var other = ClientAs(watched);
        var watchedPicture = await other.UploadPictureAsync(watched, Jpeg(TestImages.Green), "w.jpg", activate: true);
        await Eventually(() => avatarChanges.Any(e => e.UserId == watched && e.PictureId == watchedPicture.Id), "the watched user's change did not arrive");

        // The hub goes away; meanwhile two own changes happen. Back again: both arrive, once.
        app.HubUnreachable = true;
        Assert.True(app.DropHubConnections() >= 1);
        await Eventually(() => events.State != HubConnectionState.Connected, "the client did not notice the drop");
        var missed1 = await me.UploadPictureAsync(user, Jpeg(TestImages.Green), "missed1.jpg");
        await me.RenamePictureAsync(user, missed1.Id, "missed");
        app.HubUnreachable = false;
        await Eventually(() => Volatile.Read(ref reconnects) == 1, "the client did not reconnect");
        await Eventually(() => received.Any(e => e.Type == EventTypes.PictureUpdated && e.PictureId == missed1.Id), "the missed rename did not arrive");
        Assert.Contains(uploads, e => e.PictureId == missed1.Id);

        // The watch was renewed: the watched user's next change arrives.
        var watchedNext = await other.UploadPictureAsync(watched, Jpeg(TestImages.Red), "w2.jpg", activate: true);
        await Eventually(() => avatarChanges.Any(e => e.PictureId == watchedNext.Id), "the watch did not survive the reconnect");
        var after = await me.UploadPictureAsync(user, Jpeg(TestImages.Blue), "after.jpg");
        await Eventually(() => uploads.Any(e => e.PictureId == after.Id), "own events stopped after the reconnect");

        // A last change, and its event: the hub delivers one connection's events in order, so anything
        // doubled from before it (live and caught up) has arrived by now.
        var marker = await me.UploadPictureAsync(user, Jpeg(TestImages.Green), "marker.jpg");
        await Eventually(() => uploads.Any(e => e.PictureId == marker.Id), "the last upload's event did not arrive");
        var own = received.Where(e => e.UserId == user).ToList();
        Assert.Equal(own.Select(e => e.Seq).Distinct().Count(), own.Count);
        Assert.Equal(await me.GetEventsAsync(user, afterSeq: own.Min(e => e.Seq) - 1), own.OrderBy(e => e.Seq).ToList(), new SeqComparer());
        // The upload just before connecting may still arrive live (the relay is asynchronous), but at most once.
        Assert.True(received.Count(e => e.PictureId == old.Id) <= 1);
        Assert.Equal(own.Max(e => e.Seq), events.LastSeq);
    }

    [Fact]
    public async Task AnAnonymousConnectionWatchesAvatarsAndNothingElse()
    {
        var anonymousClient = ClientAs(null);
        await using var events = new ImagePicturesEvents(anonymousClient);
        var changes = new ConcurrentQueue<AvatarChange>();
        await using var watch = await events.WatchAvatarAsync("cl-public", c => { changes.Enqueue(c); return Task.CompletedTask; });
        await events.StartAsync(); // already starting: returns once connected and watching

        var owner = ClientAs("cl-public");
        var picture = await owner.UploadPictureAsync("cl-public", Jpeg(TestImages.Red), "p.jpg", title: "secret title", activate: true);
        await Eventually(() => changes.Any(c => c.Picture?.Id == picture.Id), "the public avatar change did not arrive");
        var change = changes.Single(c => c.Picture?.Id == picture.Id);
        Assert.Equal(picture.ContentHash[..16], change.Version);
        Assert.Null(change.Picture!.Title); // the public shape only
        Assert.Equal(0, change.Picture.Bytes);

        app.DropHubConnections();
        await Eventually(() => changes.Any(c => c.Version.StartsWith('r')), "no reload after the reconnect");
        var next = await owner.UploadPictureAsync("cl-public", Jpeg(TestImages.Blue), "q.jpg", activate: true);
        await Eventually(() => changes.Any(c => c.Picture?.Id == next.Id), "the change after the reconnect did not arrive");
    }

    [Fact]
    public async Task AddImagePicturesClientRegistersTheClientAndTheEvents()
    {
        var services = new ServiceCollection()
            .AddImagePicturesClient(o =>
            {
                o.BaseAddress = new Uri(app.BaseUrl);
                o.AccessTokenProvider = _ => ValueTask.FromResult<string?>(app.Token("signup-service", scopes: ["pictures:provision"]));
            })
            .BuildServiceProvider();
        var client = services.GetRequiredService<ImagePicturesClient>();
        Assert.True((await client.CreateDefaultPictureAsync("cl-registered")).Created);
        Assert.Same(services.GetRequiredService<ImagePicturesEvents>(), services.GetRequiredService<IAvatarEvents>());
    }

    private sealed class SyncProgress(Action<UploadProgress> report) : IProgress<UploadProgress>
    {
        public void Report(UploadProgress value) => report(value);
    }

    private sealed class SeqComparer : IEqualityComparer<PictureEvent>
    {
        public bool Equals(PictureEvent? x, PictureEvent? y) => x?.Seq == y?.Seq && x?.Type == y?.Type;
        public int GetHashCode(PictureEvent e) => e.Seq.GetHashCode();
    }

    /// <summary>The service as it answers while overloaded, once: 503 with Retry-After: 1; then the real thing.</summary>
    private sealed class BusyOnce() : DelegatingHandler(new HttpClientHandler())
    {
        private DateTime _first;
        public int Requests;
        public TimeSpan SecondAfter;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken ct)
        {
            if (++Requests == 1)
            {
                _first = DateTime.UtcNow;
                if (request.Content is not null) await request.Content.ReadAsByteArrayAsync(ct); // consumes the stream, as a real send would
                var busy = new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
                {
                    Content = new StringContent("""{"status":503,"title":"Service unavailable","detail":"The database is not reachable right now; try again shortly."}""",
                        System.Text.Encoding.UTF8, "application/problem+json"),
                };
                busy.Headers.RetryAfter = new System.Net.Http.Headers.RetryConditionHeaderValue(TimeSpan.FromSeconds(1));
                return busy;
            }
            SecondAfter = DateTime.UtcNow - _first;
            return await base.SendAsync(request, ct);
        }
    }
}

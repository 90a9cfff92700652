using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using ImagePictures.Api.Events;
using ImagePictures.Api.EventLog;
using ImagePictures.Api.Jobs;
using ImagePictures.Api.Tests.Infrastructure;
using Npgsql;
using static ImagePictures.Api.Tests.Events.EventsKit;
using static ImagePictures.Api.Tests.Realtime.RealtimeKit;

namespace ImagePictures.Api.Tests.Events;

/// <summary>The service and a webhook receiver, started and stopped together; as a class fixture, or as the base of a test class that wants its own per test.</summary>
public class WebhookFixture<TApp> : IAsyncLifetime where TApp : PicturesApplication, new()
{
    public TApp App { get; } = new();
    public WebhookReceiver Receiver { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Receiver = await WebhookReceiver.StartAsync();
        await ((IAsyncLifetime)App).InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await ((IAsyncLifetime)App).DisposeAsync();
        await Receiver.DisposeAsync();
    }

    /// <summary>Registers an endpoint at the receiver's /hooks/{hook} and gives the receiver its secret.</summary>
    public async Task<string> RegisterAsync(string hook, string[]? events = null)
    {
        var created = await CreateWebhookAsync(App.Admin(), Receiver.Url(hook), events);
        Receiver.SetSecret(hook, created.GetProperty("secret").GetString()!);
        return created.GetProperty("id").GetString()!;
    }
}

public sealed class WebhookFixture : WebhookFixture<EventsApplication>;

[Trait("Category", "Api")]
public class WebhookTests(WebhookFixture f) : IClassFixture<WebhookFixture>
{
    private WebhookReceiver Receiver => f.Receiver;

    [Fact]
    public async Task EachEventArrivesSignedWithTheStandardWebhooksHeaders()
    {
        var created = await CreateWebhookAsync(f.App.Admin(), Receiver.Url("signed"));
        var secret = created.GetProperty("secret").GetString()!;
        Assert.StartsWith("whsec_", secret);
        Assert.True(Convert.FromBase64String(secret["whsec_".Length..]).Length >= 24);
        Receiver.SetSecret("signed", secret);

        var picture = await UploadAsync(f.App, "wh-signed", activate: true);
        await Eventually(() => Task.FromResult(Receiver.Accepted("signed").Count >= 2), "two deliveries");

        Assert.All(Receiver.Attempts("signed"), a => Assert.True(a.SignatureValid, $"signature of {a.Id}"));
        var attempts = Receiver.Accepted("signed").DistinctBy(a => a.Seq).ToList();
        Assert.Equal(["PictureUploaded", "ActivePictureChanged"], attempts.Select(a => a.Type));
        var events = await EventsAsync(f.App, "wh-signed");
        foreach (var (a, e) in attempts.Zip(events))
        {
            Assert.Equal(e.Seq.ToString(), a.Id);
            Assert.Equal(e.Seq, a.Seq);
            Assert.Equal(picture.Id, e.PictureId);
            Assert.InRange(a.Timestamp, DateTimeOffset.UtcNow.AddMinutes(-5).ToUnixTimeSeconds(), DateTimeOffset.UtcNow.AddMinutes(5).ToUnixTimeSeconds());
        }
        // A body changed in transit no longer verifies.
        var first = attempts[0];
        Assert.False(WebhookReceiver.Verify(secret, first.Id, first.Timestamp, first.Body.Replace("wh-signed", "wh-signet"), first.Signature));

        // The secret is shown once: the list has none.
        var listed = await f.App.Admin().GetStringAsync("/api/admin/webhooks");
        Assert.DoesNotContain(secret, listed);
        Assert.DoesNotContain("secret", listed, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task OrderHoldsThroughAReceiverThatFailsItsFirstThreeAttempts()
    {
        var id = await f.RegisterAsync("order");
        Receiver.FailNext("order", 3);
        const string user = "wh-order";
        var picture = await UploadAsync(f.App, user);
        for (var i = 0; i < 4; i++) await EventsKit.RenameAsync(f.App.ClientFor(user), user, picture.Id, $"t{i}");
        var expected = (await EventsAsync(f.App, user)).Select(e => e.Seq).ToList();
        Assert.Equal(5, expected.Count);

        await Eventually(() => Task.FromResult(Receiver.AcceptedSeqs("order").Count >= 5), "five accepted deliveries");
        var attempts = Receiver.Attempts("order");
        Assert.Equal(expected, Receiver.AcceptedSeqs("order"));
        Assert.Equal(3, attempts.Count(a => a.Seq == expected[0] && a.Answer == 500)); // three failures, then success
        // Never a later event before the earlier one succeeded: attempts only move forward.
        Assert.Equal(attempts.Select(a => a.Seq).Order(), attempts.Select(a => a.Seq));
        await Eventually(async () => (await WebhookStatusAsync(f.App.Admin(), id)).GetProperty("pendingCount").GetInt64() == 0, "nothing pending");
        var status = await WebhookStatusAsync(f.App.Admin(), id);
        Assert.Equal(JsonValueKind.Null, status.GetProperty("failingSince").ValueKind); // healthy again
        Assert.Equal(expected[^1], status.GetProperty("lastDeliveredSeq").GetInt64());
    }

    [Fact]
    public async Task AnEndpointFailingFor24HoursIsDisabledAndEnableResumesFromItsCursor()
    {
        var id = await f.RegisterAsync("failing");
        Receiver.FailAlways("failing", true);
        const string user = "wh-failing";
        var picture = await UploadAsync(f.App, user);
        await Eventually(() => Task.FromResult(Receiver.Attempts("failing").Count >= 2), "two failed attempts");

        var failing = await WebhookStatusAsync(f.App.Admin(), id);
        Assert.False(failing.GetProperty("disabled").GetBoolean());
        Assert.Contains("500", failing.GetProperty("lastError").GetString());
        Assert.Equal(JsonValueKind.String, failing.GetProperty("failingSince").ValueKind);

        f.App.Clock.Offset = TimeSpan.FromHours(25); // a day passes
        try
        {
            await Eventually(async () => (await WebhookStatusAsync(f.App.Admin(), id)).GetProperty("disabled").GetBoolean(), "disabled");
            var disabled = await WebhookStatusAsync(f.App.Admin(), id);
            Assert.Contains("Disabled after", disabled.GetProperty("lastError").GetString());
            var cursor = disabled.GetProperty("lastDeliveredSeq").GetInt64();

            // While disabled nothing is tried (no delivery loop runs for it); changes wait behind the cursor.
            await Eventually(() => !f.App.Dispatcher.HeldSinks.Contains(id), "the disabled endpoint's delivery loop ended");
            var attemptsWhileDisabled = Receiver.Attempts("failing").Count;
            await EventsKit.RenameAsync(f.App.ClientFor(user), user, picture.Id, "while disabled");
            await Eventually(async () => (await WebhookStatusAsync(f.App.Admin(), id)).GetProperty("pendingCount").GetInt64() == 2, "the rename pending");
            Assert.DoesNotContain(id, f.App.Dispatcher.HeldSinks);
            Assert.Equal(attemptsWhileDisabled, Receiver.Attempts("failing").Count);
            Assert.Equal(2, (await WebhookStatusAsync(f.App.Admin(), id)).GetProperty("pendingCount").GetInt64());

            Receiver.FailAlways("failing", false);
            Assert.Equal(HttpStatusCode.NoContent, (await f.App.Admin().PostAsync($"/api/admin/webhooks/{id}/enable", null)).StatusCode);
            await Eventually(() => Task.FromResult(Receiver.AcceptedSeqs("failing").Count >= 2), "both events after enable");
            var expected = (await EventsAsync(f.App, user)).Select(e => e.Seq).Where(s => s > cursor).ToList();
            Assert.Equal(expected, Receiver.AcceptedSeqs("failing"));
            var enabled = await WebhookStatusAsync(f.App.Admin(), id);
            Assert.False(enabled.GetProperty("disabled").GetBoolean());
        }
        finally { f.App.Clock.Offset = TimeSpan.Zero; }
    }

    [Fact]
    public async Task ADeletedEndpointReceivesNothingMore()
    {
        var id = await f.RegisterAsync("deleted");
        const string user = "wh-deleted";
        var picture = await UploadAsync(f.App, user);
        await Eventually(() => Task.FromResult(Receiver.AcceptedSeqs("deleted").Count == 1), "the first delivery");

        Assert.Equal(HttpStatusCode.NoContent, (await f.App.Admin().DeleteAsync($"/api/admin/webhooks/{id}")).StatusCode);
        await EventsKit.RenameAsync(f.App.ClientFor(user), user, picture.Id, "after delete");
        var control = await f.RegisterAsync("control"); // a live endpoint, to know when the rename would have been delivered
        await EventsKit.RenameAsync(f.App.ClientFor(user), user, picture.Id, "after control");
        await Eventually(() => Task.FromResult(Receiver.Accepted("control").Count >= 1), "the control endpoint's delivery");
        await Eventually(() => !f.App.Dispatcher.HeldSinks.Contains(id), "the deleted endpoint's delivery loop ended"); // nothing can be tried after this

        Assert.Single(Receiver.Attempts("deleted").Select(a => a.Seq).Distinct()); // only the event from before the delete
        Assert.DoesNotContain(await List(), w => w.GetProperty("id").GetString() == id);
        Assert.Equal(HttpStatusCode.NotFound, (await f.App.Admin().DeleteAsync($"/api/admin/webhooks/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await f.App.Admin().DeleteAsync($"/api/admin/webhooks/{control}")).StatusCode);
    }

    [Fact]
    public async Task AnEndpointHearsOnlyTheEventTypesItAskedFor()
    {
        var id = await f.RegisterAsync("avatars", [EventTypes.ActivePictureChanged]);
        const string user = "wh-filter";
        var first = await UploadAsync(f.App, user, activate: true);
        await UploadAsync(f.App, user, activate: true);
        await Eventually(() => Task.FromResult(Receiver.Accepted("avatars").Count >= 2), "two avatar changes");
        await Eventually(async () => (await WebhookStatusAsync(f.App.Admin(), id)).GetProperty("pendingCount").GetInt64() == 0, "nothing pending");
        Assert.All(Receiver.Attempts("avatars"), a => Assert.Equal("ActivePictureChanged", a.Type));
        Assert.Equal(first.Id.ToString(), JsonDocument.Parse(Receiver.Accepted("avatars")[0].Body).RootElement.GetProperty("pictureId").GetString());
    }

    [Fact]
    public async Task ASeqCommittedLateIsDeliveredFirstAndARolledBackOneIsSkipped()
    {
        var id = await f.RegisterAsync("late");
        const string user = "wh-late";
        var picture = await UploadAsync(f.App, user);
        await Eventually(() => Task.FromResult(Receiver.AcceptedSeqs("late").Count == 1), "the upload delivered");

        // A transaction takes a seq and stays open while a later seq commits.
        await using var slow = new NpgsqlConnection(f.App.ConnectionString);
        await slow.OpenAsync();
        await using var tx = await slow.BeginTransactionAsync();
        var lateSeq = await slow.ExecuteScalarAsync<long>(
            "INSERT INTO events (user_id, type, picture_id) VALUES (@user, 'PictureUpdated', @id) RETURNING seq", new { user, id = picture.Id }, tx);
        await EventsKit.RenameAsync(f.App.ClientFor(user), user, picture.Id, "after the late one");
        // The loop has read the later seq and stopped at the hole below it (it then only rereads until the hole settles).
        await Eventually(() => f.App.Dispatcher.WaitingAtHole(id) is { } at && at.Missing == lateSeq && at.ReadUpTo > lateSeq,
            "the sink's loop read past the hole and waits at it");
        Assert.Single(Receiver.AcceptedSeqs("late")); // the later seq waits for the hole below it
        await slow.ExecuteAsync("SELECT pg_notify('picture_events', @lateSeq::text)", new { lateSeq }, tx);
        await tx.CommitAsync();
        await Eventually(() => Task.FromResult(Receiver.AcceptedSeqs("late").Count == 3), "both after the commit");
        Assert.Equal([lateSeq, lateSeq + 1], Receiver.AcceptedSeqs("late").Skip(1));

        // A rolled-back seq leaves a hole that is passed over.
        await using (var rolledBack = await slow.BeginTransactionAsync())
        {
            await slow.ExecuteAsync("INSERT INTO events (user_id, type) VALUES (@user, 'PictureUpdated')", new { user }, rolledBack);
            await rolledBack.RollbackAsync();
        }
        await EventsKit.RenameAsync(f.App.ClientFor(user), user, picture.Id, "after the hole");
        await Eventually(() => Task.FromResult(Receiver.AcceptedSeqs("late").Count == 4), "the change after the hole");
        Assert.Equal(lateSeq + 3, Receiver.AcceptedSeqs("late")[3]);
        // The receiver records the delivery before the dispatcher hears its answer and moves the cursor: wait for the cursor.
        await Eventually(async () => (await WebhookStatusAsync(f.App.Admin(), id)).GetProperty("lastDeliveredSeq").GetInt64() == lateSeq + 3,
            "the cursor moved past the hole to the change after it");
    }

    [Fact]
    public async Task TheAdminPageShowsTheSinks()
    {
        var id = await f.RegisterAsync("dashboard");
        var html = await f.App.Admin().GetStringAsync("/admin");
        Assert.Contains("data-testid=\"event-sinks\"", html);
        Assert.Contains($"data-sink=\"{id}\"", html);
    }

    private async Task<JsonElement[]> List() => (await f.App.Admin().GetFromJsonAsync<JsonElement[]>("/api/admin/webhooks"))!;
}

/// <summary>event-prune with a webhook that keeps failing: what it has not received stays, however old.</summary>
[Trait("Category", "Api")]
public class WebhookPruneTests : WebhookFixture<WebhookPruneTests.Application>
{
    public sealed class Application : JobsApplication
    {
        public Application()
        {
            With("Events:PollSeconds", "0.3");
            With("Events:Webhooks:RetryDelaysSeconds:0", "0.2");
        }
    }

    [Fact]
    public async Task EventPruneKeepsWhatAnEnabledSinkHasNotDelivered()
    {
        var admin = App.Admin();
        var id = await RegisterAsync("prune");
        const string user = "wh-prune";
        var picture = await UploadAsync(App, user);
        await Eventually(() => Task.FromResult(Receiver.AcceptedSeqs("prune").Count == 1), "the first event delivered");
        await Eventually(async () => await CursorAsync(App.ConnectionString, id) > 0, "the cursor past it");
        var delivered = await CursorAsync(App.ConnectionString, id);

        Receiver.FailAlways("prune", true);
        for (var i = 0; i < 3; i++) await EventsKit.RenameAsync(App.ClientFor(user), user, picture.Id, $"t{i}");
        var undelivered = await SeqsAsync(App.ConnectionString, delivered);
        Assert.Equal(3, undelivered.Length);

        await using (var conn = new NpgsqlConnection(App.ConnectionString))
            await conn.ExecuteAsync("UPDATE events SET occurred_at = now() - interval '30 days'"); // all past Events:RetentionDays

        var run = await JobDriver.TriggerAndWaitAsync(admin, EventPruneJob.Name);
        Assert.Equal("succeeded", run.Status);
        var left = await SeqsAsync(App.ConnectionString, 0);
        Assert.Equal(undelivered, left);   // the delivered ones are gone, the undelivered stay
        Assert.True(run.Deleted >= 1);

        // Once the endpoint is deleted nothing holds them back.
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/admin/webhooks/{id}")).StatusCode);
        await JobDriver.TriggerAndWaitAsync(admin, EventPruneJob.Name);
        Assert.Empty(await SeqsAsync(App.ConnectionString, 0));
    }
}

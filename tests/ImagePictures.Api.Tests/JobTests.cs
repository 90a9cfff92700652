using ImagePictures.Api.Trash;
using ImagePictures.Api.Uploads;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using Hangfire;
using Hangfire.Storage;
using ImagePictures.Api.EventLog;
using ImagePictures.Api.Jobs;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;

namespace ImagePictures.Api.Tests;

/// <summary>
/// A service whose crons do not fire during a test run: only explicit triggers run jobs. Its clock is the
/// test's, so a test moves time past an age limit instead of waiting for it.
/// </summary>
public class JobsApplication : PicturesApplication
{
    /// <summary>A real schedule (midnight of 29 February), so nextRunAt is a date, but years away.</summary>
    public const string FarCron = "0 0 29 2 *";

    public Events.TestClock Clock { get; } = new();

    public JobsApplication()
    {
        foreach (var name in JobsSetup.Catalog.Keys) With($"Jobs:{name}:Cron", FarCron);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(Clock));
    }
}

/// <summary>Triggering jobs through the admin API, waiting for their recorded runs, and reading Hangfire's own view.</summary>
public static class JobDriver
{
    public sealed record Run(long Id, DateTime StartedAt, DateTime? FinishedAt, string Node, string Status, int Found, int Deleted, int Failed, string? Error);

    public static async Task<Run[]> RunsAsync(HttpClient admin, string job, int limit = 50) =>
        (await admin.GetFromJsonAsync<Run[]>($"/api/admin/jobs/{job}/runs?limit={limit}"))!;

    public static async Task<long> LastRunIdAsync(HttpClient admin, string job) =>
        (await RunsAsync(admin, job, 1)).Select(r => r.Id).DefaultIfEmpty(0).Max();

    public static async Task TriggerAsync(HttpClient admin, string job)
    {
        var response = await admin.PostAsync($"/api/admin/jobs/{job}/trigger", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
    }

    /// <summary>Triggers the job and waits (polling, 60 s at most) for the new run to finish.</summary>
    public static async Task<Run> TriggerAndWaitAsync(HttpClient admin, string job)
    {
        var before = await LastRunIdAsync(admin, job);
        await TriggerAsync(admin, job);
        return (await WaitForRunsAfterAsync(admin, job, before, 1))[0];
    }

    /// <summary>Waits until <paramref name="count"/> runs after <paramref name="afterId"/> have finished; oldest first.</summary>
    public static async Task<Run[]> WaitForRunsAfterAsync(HttpClient admin, string job, long afterId, int count, int seconds = 60)
    {
        Run[] runs = [];
        await Eventually(async () =>
        {
            runs = (await RunsAsync(admin, job, 500)).Where(r => r.Id > afterId && r.FinishedAt is not null).OrderBy(r => r.Id).ToArray();
            return runs.Length >= count;
        }, $"{count} finished runs of {job}", TimeSpan.FromSeconds(Math.Max(seconds, 60)));
        return runs;
    }

    public static IMonitoringApi Monitoring(PicturesApplication app) => app.Services.GetRequiredService<JobStorage>().GetMonitoringApi();

    /// <summary>
    /// Hangfire (the app's storage, shared by every instance on its database) has no job enqueued, processing
    /// or scheduled for a retry: no run can start any more unless something new is triggered or a cron fires.
    /// </summary>
    public static bool Quiet(PicturesApplication app)
    {
        var monitoring = Monitoring(app);
        return monitoring.ProcessingCount() == 0 && monitoring.ScheduledCount() == 0 && monitoring.Queues().All(q => q.Length == 0);
    }

    public static RecurringJobDto Recurring(PicturesApplication app, string job)
    {
        using var connection = app.Services.GetRequiredService<JobStorage>().GetConnection();
        return connection.GetRecurringJobs([job]).Single();
    }

    public static JsonElement Job(JsonElement[]? jobs, string name) => jobs!.Single(j => j.GetProperty("name").GetString() == name);
}

[Trait("Category", "Api")]
public sealed class JobTestsOnFileSystem(JobTests.Application app) : JobTests(app), IClassFixture<JobTests.Application>;
[Trait("Category", "Api")]
public sealed class JobTestsOnS3(JobTests.S3Application app) : JobTests(app), IClassFixture<JobTests.S3Application>;

/// <summary>The scheduled jobs through the admin API, once per storage provider.</summary>
[Trait("Category", "Api")]
public abstract class JobTests(JobTests.Application app)
{
    public class Application : JobsApplication
    {
        public Application()
        {
            With("Trash:RetentionDays", "0");
            With("OrphanSweep:GraceMinutes", "0");
            With("Jobs:BatchSize", "2"); // the purge of three pictures runs in two batches, the first committing while the second deletes
        }
    }

    public sealed class S3Application : Application
    {
        public S3Application() => UseS3();
    }

    private static byte[] Photo() { using var img = TestImages.Split(300, 200, TestImages.Red, TestImages.Blue); return TestImages.Jpeg(img); }

    private async Task<PictureJson> Upload(string user)
    {
        var response = await app.ClientFor(user).PostAsync($"/api/users/{user}/pictures", TestUploads.Form(Photo()));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PictureJson>())!;
    }

    [Fact]
    public async Task TrashPurgeRemovesExpiredPicturesFilesAndRowsAndLeavesAYoungerOne()
    {
        const string user = "jpurge";
        var pictures = new List<PictureJson>();
        for (var i = 0; i < 3; i++) pictures.Add(await Upload(user));
        var client = app.ClientFor(user);
        foreach (var p in pictures) Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"/api/users/{user}/pictures/{p.Id}")).StatusCode);
        var younger = pictures[^1];
        var expired = pictures.Take(2).ToList();
        await using (var conn = new NpgsqlConnection(app.ConnectionString))
            await conn.ExecuteAsync("UPDATE pictures SET purge_after = now() + interval '1 day' WHERE id = @id", new { id = younger.Id });

        var run = await JobDriver.TriggerAndWaitAsync(app.Admin(), TrashPurgeJob.Name);

        Assert.Equal("succeeded", run.Status);
        Assert.True(run.Found >= 2 && run.Deleted >= 2 && run.Failed == 0, JsonSerializer.Serialize(run));
        Assert.False(string.IsNullOrEmpty(run.Node));
        foreach (var p in expired) Assert.False(await app.Stored.PictureExistsAsync(user, p.Id));
        Assert.Contains("64.webp", await app.Stored.PictureFilesAsync(user, younger.Id));
        Assert.Equal(younger.Id, Assert.Single((await client.GetFromJsonAsync<PictureJson[]>($"/api/users/{user}/trash"))!).Id);

        // One PicturePurged event per purged picture, in the event log.
        await using (var conn = new NpgsqlConnection(app.ConnectionString))
        {
            var purged = await conn.QueryAsync<Guid>("SELECT picture_id FROM events WHERE user_id = @user AND type = 'PicturePurged'", new { user });
            Assert.Equal(expired.Select(p => p.Id).Order(), purged.Order());
            Assert.Equal(1, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM pictures WHERE user_id = @user", new { user }));
        }

        var jobs = (await app.Admin().GetFromJsonAsync<JsonElement[]>("/api/admin/jobs"))!;
        var purge = JobDriver.Job(jobs, TrashPurgeJob.Name);
        Assert.Equal(run.Id, purge.GetProperty("lastRun").GetProperty("id").GetInt64());
        Assert.Equal(JobsApplication.FarCron, purge.GetProperty("cron").GetString());

        // The job's return value carries its counts, and Hangfire shows it as the job's result (Hangfire
        // records the Succeeded state just after the run record is written: give it a moment).
        Hangfire.Storage.Monitoring.SucceededJobDto? succeeded = null;
        await Eventually(() => (succeeded = JobDriver.Monitoring(app).SucceededJobs(0, 50).Select(j => j.Value)
                .FirstOrDefault(j => j.Job.Type == typeof(TrashPurgeJob) && j.Result?.ToString()?.Contains($"\"Deleted\":{run.Deleted}") == true)) is not null,
            "a succeeded trash-purge job in Hangfire with the run's counts as its result");
        Assert.Contains("\"Found\":", succeeded!.Result!.ToString());
    }

    [Fact]
    public async Task OrphanSweepRemovesFoldersWithoutRowsAndReportsRowsWithoutFolders()
    {
        const string user = "jorphan";
        var kept = await Upload(user);
        var lost = await Upload(user);
        // A picture's files without a row (a crash between the files and the commit), and on the file
        // system an interrupted write's staging folder; then a row whose files are lost.
        var orphan = Guid.NewGuid();
        await app.Stored.PlantPictureFileAsync(user, orphan.ToString(), "512.webp", "x"u8.ToArray());
        await app.Stored.PlantPictureFileAsync(user, orphan.ToString(), "master.jpg", "x"u8.ToArray());
        var leftovers = 1;
        if (app.Stored is FileSystemView)
        {
            await app.Stored.PlantPictureFileAsync(user, $".staging-{Guid.NewGuid()}", "64.webp", "x"u8.ToArray());
            leftovers++;
        }
        await app.Stored.LosePictureAsync(user, lost.Id);

        var run = await JobDriver.TriggerAndWaitAsync(app.Admin(), OrphanSweepJob.Name);

        Assert.False(await app.Stored.PictureExistsAsync(user, orphan));
        Assert.Equal(new[] { kept.Id.ToString() }, await app.Stored.UserEntriesAsync(user)); // the leftovers went, the picture with a row stays
        Assert.Equal(11, (await app.Stored.PictureFilesAsync(user, kept.Id)).Length);
        Assert.Equal("partial", run.Status);
        Assert.True(run.Deleted >= leftovers && run.Found >= leftovers + 1, JsonSerializer.Serialize(run));
        Assert.Contains(lost.Id.ToString(), run.Error);
        // The row whose folder is missing is reported, not deleted.
        await using var conn = new NpgsqlConnection(app.ConnectionString);
        Assert.Equal(1, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM pictures WHERE id = @id", new { id = lost.Id }));
    }

    [Fact]
    public async Task EventPruneDeletesEventsPastTheRetentionAndKeepsNewerOnes()
    {
        long old, recent;
        await using (var conn = new NpgsqlConnection(app.ConnectionString))
        {
            old = await conn.ExecuteScalarAsync<long>("INSERT INTO events (user_id, type, occurred_at) VALUES ('jprune', 'PictureUploaded', now() - interval '8 days') RETURNING seq");
            recent = await conn.ExecuteScalarAsync<long>("INSERT INTO events (user_id, type, occurred_at) VALUES ('jprune', 'PictureUploaded', now() - interval '6 days') RETURNING seq");
        }

        var run = await JobDriver.TriggerAndWaitAsync(app.Admin(), EventPruneJob.Name);

        Assert.Equal("succeeded", run.Status);
        Assert.True(run.Deleted >= 1, JsonSerializer.Serialize(run));
        await using var check = new NpgsqlConnection(app.ConnectionString);
        var left = (await check.QueryAsync<long>("SELECT seq FROM events WHERE user_id = 'jprune'")).ToList();
        Assert.Equal([recent], left);
        Assert.DoesNotContain(old, left);
    }

    [Fact]
    public async Task UnknownJobIs404AndTheAdminApiNeedsAnAdmin()
    {
        var admin = app.Admin();
        foreach (var path in new[] { "trigger", "pause", "resume" })
        {
            var response = await admin.PostAsync($"/api/admin/jobs/no-such-job/{path}", null);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/admin/jobs/no-such-job/runs")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.ClientFor("jdoe").GetAsync("/api/admin/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.ClientFor("jdoe").PostAsync("/api/admin/jobs/trash-purge/trigger", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.ClientWithToken(null).GetAsync("/api/admin/jobs")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.ClientWithToken(null).GetAsync("/api/admin/uploads")).StatusCode);
    }

    [Fact]
    public async Task ARunThatThrowsIsRecordedAsFailedAndShowsAsFailedInHangfireWithItsException()
    {
        // The events table is renamed away for a moment, so event-prune's DELETE fails.
        await using var conn = new NpgsqlConnection(app.ConnectionString);
        var before = await JobDriver.LastRunIdAsync(app.Admin(), EventPruneJob.Name);
        await conn.ExecuteAsync("ALTER TABLE events RENAME TO events_away");
        JobDriver.Run run;
        try
        {
            await JobDriver.TriggerAsync(app.Admin(), EventPruneJob.Name);
            run = (await JobDriver.WaitForRunsAfterAsync(app.Admin(), EventPruneJob.Name, before, 1))[0];
        }
        finally
        {
            await conn.ExecuteAsync("ALTER TABLE events_away RENAME TO events");
        }
        Assert.Equal("failed", run.Status);
        Assert.Contains("events", run.Error);

        // Hangfire saw the exception: the job went through Failed (with the exception) on its way to a retry.
        string? failure = null;
        await Eventually(() =>
        {
            var monitoring = JobDriver.Monitoring(app);
            var ids = monitoring.ScheduledJobs(0, 50).Where(j => j.Value.Job?.Type == typeof(EventPruneJob)).Select(j => j.Key)
                .Concat(monitoring.FailedJobs(0, 50).Where(j => j.Value.Job?.Type == typeof(EventPruneJob)).Select(j => j.Key));
            failure = ids.Select(id => monitoring.JobDetails(id)).SelectMany(d => d.History)
                .Where(h => h.StateName == "Failed").Select(h => h.Data.TryGetValue("ExceptionMessage", out var m) ? m : null).FirstOrDefault(m => m is not null);
            return failure is not null;
        }, "Hangfire recorded the event-prune job as Failed with the exception");
        Assert.Contains("events", failure);
    }
}

/// <summary>Pausing and resuming, including across a restart of the service.</summary>
[Trait("Category", "Api")]
public class PauseTests : IAsyncLifetime
{
    private readonly JobsApplication _first = new();
    private JobsApplication? _restarted;

    public Task InitializeAsync() => _first.InitializeAsync();

    public async Task DisposeAsync()
    {
        if (_restarted is not null) await ((IAsyncLifetime)_restarted).DisposeAsync();
        await ((IAsyncLifetime)_first).DisposeAsync();
    }

    [Fact]
    public async Task APausedJobIsDisabledWithoutNextRunStillRunsWhenTriggeredStaysPausedAfterARestartAndResumesItsCron()
    {
        const string job = TrashPurgeJob.Name;
        var admin = _first.Admin();
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync($"/api/admin/jobs/{job}/pause", null)).StatusCode);

        var paused = JobDriver.Job(await admin.GetFromJsonAsync<JsonElement[]>("/api/admin/jobs"), job);
        Assert.True(paused.GetProperty("paused").GetBoolean());
        Assert.Equal(JsonValueKind.Null, paused.GetProperty("nextRunAt").ValueKind);
        Assert.Equal(JobsApplication.FarCron, paused.GetProperty("cron").GetString()); // what resume restores
        Assert.Equal(Cron.Never(), JobDriver.Recurring(_first, job).Cron);
        Assert.Null(JobDriver.Recurring(_first, job).NextExecution);
        var page = await admin.GetStringAsync("/hangfire/recurring");
        var row = HangfireDashboardTests.RecurringRow(page, job);
        Assert.Contains("Disabled", row, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Disabled", HangfireDashboardTests.RecurringRow(page, TempCleanupJob.Name), StringComparison.OrdinalIgnoreCase);

        // A trigger still runs it while paused.
        var run = await JobDriver.TriggerAndWaitAsync(admin, job);
        Assert.Equal("succeeded", run.Status);

        // A restart (a new instance on the same database registers every job again) keeps the pause.
        await ((IAsyncLifetime)_first).DisposeAsync();
        _restarted = new JobsApplication { SharedConnectionString = _first.ConnectionString };
        await _restarted.InitializeAsync();
        admin = _restarted.Admin();
        Assert.True(JobDriver.Job(await admin.GetFromJsonAsync<JsonElement[]>("/api/admin/jobs"), job).GetProperty("paused").GetBoolean());
        Assert.Equal(Cron.Never(), JobDriver.Recurring(_restarted, job).Cron);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync($"/api/admin/jobs/{job}/resume", null)).StatusCode);
        var resumed = JobDriver.Job(await admin.GetFromJsonAsync<JsonElement[]>("/api/admin/jobs"), job);
        Assert.False(resumed.GetProperty("paused").GetBoolean());
        var next = resumed.GetProperty("nextRunAt").GetDateTimeOffset();
        Assert.Equal((2, 29, 0, 0), (next.Month, next.Day, next.Hour, next.Minute));
        Assert.Equal(JobsApplication.FarCron, JobDriver.Recurring(_restarted, job).Cron);
    }
}

/// <summary>
/// Two instances of the service on one fresh database and storage, started at the same moment (so
/// the migrations and Hangfire's schema install race each other): a cluster.
/// </summary>
[Trait("Category", "Api")]
public class ClusterTests : IAsyncLifetime
{
    private const int PurgePictures = 4000; // long enough that a quiet machine is still purging when the test acts
    private JobsApplication _first = null!;
    private JobsApplication _second = null!;
    private string _storageRoot = "";

    public async Task InitializeAsync()
    {
        var database = await TestCluster.NewDatabaseAsync();
        _storageRoot = Path.Combine(Path.GetTempPath(), $"ip-storage-{Guid.NewGuid():N}");
        JobsApplication Host() => (JobsApplication)new JobsApplication { SharedConnectionString = database, StorageRoot = _storageRoot }
            .With("Trash:RetentionDays", "0").With("Jobs:BatchSize", "20");
        _first = Host();
        _second = Host();
        await Task.WhenAll(Task.Run(_first.InitializeAsync), Task.Run(_second.InitializeAsync));
    }

    public async Task DisposeAsync()
    {
        await ((IAsyncLifetime)_second).DisposeAsync();
        await ((IAsyncLifetime)_first).DisposeAsync();
        try { Directory.Delete(_storageRoot, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Fact]
    public async Task TenTriggersSpreadOverBothInstancesGiveExactlyTenRunsOneAfterAnother()
    {
        var admins = new[] { _first.Admin(), _second.Admin() };
        var before = await JobDriver.LastRunIdAsync(admins[0], EventPruneJob.Name);

        await Task.WhenAll(Enumerable.Range(0, 10).Select(i => JobDriver.TriggerAsync(admins[i % 2], EventPruneJob.Name)));
        var runs = await JobDriver.WaitForRunsAfterAsync(admins[1], EventPruneJob.Name, before, 10, seconds: 120);

        // Once Hangfire has nothing left to run (every trigger's job finished, none retried), no extra
        // (wrong) execution can still come: there were exactly ten.
        await Eventually(() => JobDriver.Quiet(_first), "Hangfire has no job enqueued, processing or scheduled");
        runs = (await JobDriver.RunsAsync(admins[0], EventPruneJob.Name, 500)).Where(r => r.Id > before).OrderBy(r => r.StartedAt).ToArray();
        Assert.Equal(10, runs.Length);
        Assert.All(runs, r => Assert.Equal("succeeded", r.Status));
        for (var i = 1; i < runs.Length; i++)
            Assert.True(runs[i].StartedAt >= runs[i - 1].FinishedAt, $"runs {runs[i - 1].Id} and {runs[i].Id} overlapped");
        Assert.Equal(0, JobDriver.Monitoring(_first).FailedCount());
    }

    [Fact]
    public async Task BothInstancesSeeTheSameJobsAndBothServersAreInTheCluster()
    {
        var a = await _first.Admin().GetStringAsync("/api/admin/jobs");
        var b = await _second.Admin().GetStringAsync("/api/admin/jobs");
        Assert.Equal(a, b);
        Assert.Equal(JobsSetup.Catalog.Keys.Order(), JsonSerializer.Deserialize<JsonElement[]>(a)!.Select(j => j.GetProperty("name").GetString()!).Order());
        Assert.Equal(2, JobDriver.Monitoring(_first).Servers().Count);

        await using var conn = new NpgsqlConnection(_first.ConnectionString);
        Assert.Equal(0, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM pg_tables WHERE tablename LIKE 'qrtz%'"));
        Assert.Equal(4, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM hangfire.set WHERE key = 'recurring-jobs'"));
    }

    [Fact]
    public async Task ASecondTriggerDuringALongPurgeWaitsForItThenRunsWithoutFailing()
    {
        const string user = "cluster-purge";
        var ids = Enumerable.Range(0, PurgePictures).Select(_ => Guid.NewGuid()).ToArray();
        foreach (var id in ids)
        {
            var folder = Path.Combine(_storageRoot, "users", user, id.ToString());
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(Path.Combine(folder, "64.webp"), [1, 2, 3]);
        }
        await using (var conn = new NpgsqlConnection(_first.ConnectionString))
            await conn.ExecuteAsync("""
                INSERT INTO pictures (id, user_id, width, height, bytes, content_hash, has_alpha, deleted_at, purge_after)
                SELECT id, @user, 512, 512, 3, repeat('0', 64), false, now() - interval '2 days', now() - interval '1 day' FROM unnest(@ids) AS id
                """, new { user, ids });

        var first = _first.Admin();
        var second = _second.Admin();
        var before = await JobDriver.LastRunIdAsync(first, TrashPurgeJob.Name);
        await JobDriver.TriggerAsync(first, TrashPurgeJob.Name);
        // Once the first run is under way, trigger again on the other instance.
        await Eventually(async () => (await JobDriver.RunsAsync(first, TrashPurgeJob.Name, 5)).Any(r => r.Id > before), "the first purge started");
        await JobDriver.TriggerAsync(second, TrashPurgeJob.Name);
        var secondTriggeredAt = DateTime.UtcNow;

        var runs = await JobDriver.WaitForRunsAfterAsync(first, TrashPurgeJob.Name, before, 2, seconds: 120);
        Assert.True(secondTriggeredAt < runs[0].FinishedAt, "the second trigger came after the first purge had finished; nothing was tested");
        Assert.All(runs, r => Assert.Equal("succeeded", r.Status));
        Assert.True(runs[1].StartedAt >= runs[0].FinishedAt, "the two purges overlapped");
        Assert.Equal(PurgePictures, runs.Sum(r => r.Deleted));
        Assert.Equal(0, JobDriver.Monitoring(_first).FailedCount());
        Assert.Equal(0, JobDriver.Monitoring(_first).ScheduledCount()); // no retry either
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(_storageRoot, "users", user)));
    }
}

/// <summary>
/// An every-minute cron on two instances: each minute the cron fires gives exactly one run. It waits for
/// the cron's first whole minute (up to a minute), so it is in the Slow lane, and a collection of its own
/// that runs while the other tests do.
/// </summary>
[Trait("Category", "Slow")]
[Collection(nameof(EveryMinuteCronTests))]
public class EveryMinuteCronTests : IAsyncLifetime
{
    private JobsApplication _first = null!;
    private JobsApplication _second = null!;

    public async Task InitializeAsync()
    {
        var database = await TestCluster.NewDatabaseAsync();
        var storage = Path.Combine(Path.GetTempPath(), $"ip-storage-{Guid.NewGuid():N}");
        _first = (JobsApplication)new JobsApplication { SharedConnectionString = database, StorageRoot = storage }.With($"Jobs:{EventPruneJob.Name}:Cron", "* * * * *");
        _second = (JobsApplication)new JobsApplication { SharedConnectionString = database, StorageRoot = storage }.With($"Jobs:{EventPruneJob.Name}:Cron", "* * * * *");
        await _first.InitializeAsync();
        await _second.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await ((IAsyncLifetime)_second).DisposeAsync();
        await ((IAsyncLifetime)_first).DisposeAsync();
        try { Directory.Delete(_first.StorageRoot, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Fact]
    public async Task AnEveryMinuteCronOnTwoInstancesRunsOncePerMinute()
    {
        // Both instances registered the one recurring job, due at the next whole minute.
        var registered = JobDriver.Recurring(_first, EventPruneJob.Name);
        Assert.Equal("* * * * *", registered.Cron);
        Assert.Equal(registered.NextExecution, JobDriver.Recurring(_second, EventPruneJob.Name).NextExecution);
        var firstFire = registered.NextExecution!.Value;
        Assert.Equal(0, firstFire.Second);

        // The first fire's run, then Hangfire with nothing left to run: every occurrence up to the next one
        // (which both schedulers now see) has been turned into jobs, and those jobs have all finished.
        await JobDriver.WaitForRunsAfterAsync(_first.Admin(), EventPruneJob.Name, 0, 1, seconds: 150);
        DateTime next = default;
        await Eventually(() =>
        {
            // The next execution read before and after the quiet check: unchanged, so no fire came in between.
            var before = JobDriver.Recurring(_first, EventPruneJob.Name).NextExecution;
            if (!JobDriver.Quiet(_first)) return false;
            next = JobDriver.Recurring(_first, EventPruneJob.Name).NextExecution!.Value;
            return next == before && next > firstFire;
        }, "the cron's first run finished and Hangfire has nothing left to run");
        var all = await JobDriver.RunsAsync(_first.Admin(), EventPruneJob.Name, 100);
        var listed = string.Join(", ", all.Select(r => $"{r.StartedAt:HH:mm:ss}"));
        // A minute may have fired between the hosts' start and the first read of NextExecution: those
        // earlier runs are not counted, but no minute, earlier or not, may have run twice.
        Assert.True(all.GroupBy(r => r.StartedAt.ToString("yyyy-MM-dd HH:mm")).All(g => g.Count() == 1), $"a minute ran twice: {listed}");
        var runs = all.Where(r => r.StartedAt >= firstFire).ToArray();
        var occurrences = (int)Math.Round((next - firstFire).TotalMinutes);
        Assert.True(runs.Length == occurrences, $"{runs.Length} runs for the {occurrences} minute(s) from {firstFire:HH:mm} to before {next:HH:mm}: {listed}");
        Assert.All(all, r => Assert.Equal("succeeded", r.Status));
    }
}

/// <summary>A shutdown in the middle of a purge: Hangfire puts the job back, and the next instance finishes it.</summary>
[Trait("Category", "Api")]
public class ShutdownTests : IAsyncLifetime
{
    private const int Pictures = 4000; // long enough that a quiet machine is still purging at the shutdown
    private readonly string _storageRoot = Path.Combine(Path.GetTempPath(), $"ip-storage-{Guid.NewGuid():N}");
    private string _database = "";
    private JobsApplication? _first, _second;

    private JobsApplication Host() => (JobsApplication)new JobsApplication { SharedConnectionString = _database, StorageRoot = _storageRoot }
        .With("Trash:RetentionDays", "0").With("Jobs:BatchSize", "10");

    public async Task InitializeAsync()
    {
        _database = await TestCluster.NewDatabaseAsync();
        _first = Host();
        await _first.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        if (_second is not null) await ((IAsyncLifetime)_second).DisposeAsync();
        if (_first is not null) await ((IAsyncLifetime)_first).DisposeAsync();
        try { Directory.Delete(_storageRoot, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [Fact]
    public async Task APurgeStoppedByShutdownIsRunAgainByTheNextInstanceAndFinishes()
    {
        const string user = "shutdown-purge";
        var ids = Enumerable.Range(0, Pictures).Select(_ => Guid.NewGuid()).ToArray();
        foreach (var id in ids)
        {
            var folder = Path.Combine(_storageRoot, "users", user, id.ToString());
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(Path.Combine(folder, "64.webp"), [1, 2, 3]);
        }
        await using (var conn = new NpgsqlConnection(_database))
            await conn.ExecuteAsync("""
                INSERT INTO pictures (id, user_id, width, height, bytes, content_hash, has_alpha, deleted_at, purge_after)
                SELECT id, @user, 512, 512, 3, repeat('0', 64), false, now() - interval '2 days', now() - interval '1 day' FROM unnest(@ids) AS id
                """, new { user, ids });

        var admin = _first!.Admin();
        await JobDriver.TriggerAsync(admin, TrashPurgeJob.Name);
        await Eventually(async () => (await JobDriver.RunsAsync(admin, TrashPurgeJob.Name, 1)).Length > 0, "the purge started");
        await ((IAsyncLifetime)_first).DisposeAsync(); // the shutdown, while the purge runs
        _first = null;

        _second = Host();
        await _second.InitializeAsync();
        var runs = await JobDriver.WaitForRunsAfterAsync(_second.Admin(), TrashPurgeJob.Name, 0, 2, seconds: 90);

        Assert.Equal("failed", runs[0].Status);
        Assert.Contains("shutdown", runs[0].Error);
        Assert.Equal("succeeded", runs[1].Status);
        await using var check = new NpgsqlConnection(_database);
        Assert.Equal(0, await check.ExecuteScalarAsync<int>("SELECT count(*) FROM pictures WHERE user_id = @user", new { user }));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(_storageRoot, "users", user)));
    }
}

[Trait("Category", "Api")]
public class JobSettingsTests
{
    [Fact]
    public async Task AnInvalidCronStopsTheStartWithAMessageNamingTheSetting()
    {
        var app = new JobsApplication().With($"Jobs:{TempCleanupJob.Name}:Cron", "every hour");
        try
        {
            var e = await Assert.ThrowsAnyAsync<Exception>(app.InitializeAsync);
            var messages = string.Join(" | ", Enumerable.Repeat(e, 1).Concat(e is AggregateException a ? a.InnerExceptions : []).Select(x => x.Message));
            Assert.Contains($"Jobs:{TempCleanupJob.Name}:Cron", messages);
        }
        finally
        {
            try { await ((IAsyncLifetime)app).DisposeAsync(); } catch (Exception) { } // the host never started
        }
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using ImagePictures.Api.Jobs;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Tests.Infrastructure;
using Npgsql;

namespace ImagePictures.Api.Tests;

/// <summary>A service whose crons never fire during a test run: only explicit triggers run jobs.</summary>
public class JobsApplication : PicturesApplication
{
    public const string Never = "0 0 0 1 1 ? 2099";

    public JobsApplication()
    {
        foreach (var name in JobsSetup.Catalog.Keys) With($"Jobs:{name}:Cron", Never);
    }
}

/// <summary>Triggering jobs through the admin API and waiting for their recorded runs.</summary>
public static class JobDriver
{
    public sealed record Run(long Id, DateTime StartedAt, DateTime? FinishedAt, string Node, string Status, int Found, int Deleted, int Failed, string? Error);

    public static async Task<Run[]> RunsAsync(HttpClient admin, string job) =>
        (await admin.GetFromJsonAsync<Run[]>($"/api/admin/jobs/{job}/runs?limit=50"))!;

    /// <summary>Triggers the job and waits (polling, 60 s at most) for the new run to finish.</summary>
    public static async Task<Run> TriggerAndWaitAsync(HttpClient admin, string job)
    {
        var before = (await RunsAsync(admin, job)).Select(r => r.Id).DefaultIfEmpty(0).Max();
        var response = await admin.PostAsync($"/api/admin/jobs/{job}/trigger", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return await WaitForRunAfterAsync(admin, job, before);
    }

    public static async Task<Run> WaitForRunAfterAsync(HttpClient admin, string job, long afterId)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            var run = (await RunsAsync(admin, job)).FirstOrDefault(r => r.Id > afterId && r.FinishedAt is not null);
            if (run is not null) return run;
            await Task.Delay(100);
        }
        throw new TimeoutException($"No finished run of {job} within 60 s.");
    }
}

public sealed class JobTestsOnFileSystem(JobTests.Application app) : JobTests(app), IClassFixture<JobTests.Application>;
public sealed class JobTestsOnS3(JobTests.S3Application app) : JobTests(app), IClassFixture<JobTests.S3Application>;

/// <summary>The scheduled jobs through the admin API, once per storage provider.</summary>
public abstract class JobTests(JobTests.Application app)
{
    public class Application : JobsApplication
    {
        public Application()
        {
            With("Trash:RetentionDays", "0");
            With("OrphanSweep:GraceMinutes", "0");
        }
    }

    public sealed class S3Application : Application
    {
        public S3Application() => UseS3();
    }

    private static byte[] Photo() { using var img = Imaging.Tests.TestImages.Split(300, 200, Imaging.Tests.TestImages.Red, Imaging.Tests.TestImages.Blue); return Imaging.Tests.TestImages.Jpeg(img); }

    private async Task<PictureJson> Upload(string user)
    {
        var response = await app.ClientFor(user).PostAsync($"/api/users/{user}/pictures", TestUploads.Form(Photo()));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PictureJson>())!;
    }

    [Fact]
    public async Task TriggeredTrashPurgePurgesExpiredPicturesAndRecordsTheRun()
    {
        const string user = "jpurge";
        var pictures = new List<PictureJson>();
        for (var i = 0; i < 3; i++) pictures.Add(await Upload(user));
        var client = app.ClientFor(user);
        foreach (var p in pictures) Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"/api/users/{user}/pictures/{p.Id}")).StatusCode);

        var clock = Stopwatch.StartNew();
        var run = await JobDriver.TriggerAndWaitAsync(app.Admin(), TrashPurgeJob.Name);
        clock.Stop();
        File.AppendAllText(Path.Combine(Path.GetTempPath(), "ip-purge-timing.txt"), $"{DateTime.UtcNow:O} trash-purge of {pictures.Count} pictures: trigger to recorded run {clock.ElapsedMilliseconds} ms, run {(run.FinishedAt - run.StartedAt)?.TotalMilliseconds} ms\n");

        Assert.Equal("succeeded", run.Status);
        Assert.True(run.Found >= 3 && run.Deleted >= 3 && run.Failed == 0, JsonSerializer.Serialize(run));
        Assert.False(string.IsNullOrEmpty(run.Node));
        foreach (var p in pictures) Assert.False(await app.Stored.PictureExistsAsync(user, p.Id));
        Assert.Empty((await client.GetFromJsonAsync<PictureJson[]>($"/api/users/{user}/trash"))!);

        // One PicturePurged event per picture, in the event log.
        await using var conn = new NpgsqlConnection(app.ConnectionString);
        var purged = await conn.QueryAsync<Guid>("SELECT picture_id FROM events WHERE user_id = @user AND type = 'PicturePurged'", new { user });
        Assert.Equal(pictures.Select(p => p.Id).Order(), purged.Order());

        var jobs = (await app.Admin().GetFromJsonAsync<JsonElement[]>("/api/admin/jobs"))!;
        var purge = jobs.Single(j => j.GetProperty("name").GetString() == TrashPurgeJob.Name);
        Assert.Equal(run.Id, purge.GetProperty("lastRun").GetProperty("id").GetInt64());
        Assert.Equal(JobsApplication.Never, purge.GetProperty("cron").GetString());
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
    public async Task EventPruneRunsAndPauseResumeAreReflectedInTheJobList()
    {
        var admin = app.Admin();
        var run = await JobDriver.TriggerAndWaitAsync(admin, EventPruneJob.Name);
        Assert.Equal("succeeded", run.Status);

        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync("/api/admin/jobs/event-prune/pause", null)).StatusCode);
        Assert.True(Job(await admin.GetFromJsonAsync<JsonElement[]>("/api/admin/jobs"), EventPruneJob.Name).GetProperty("paused").GetBoolean());
        Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync("/api/admin/jobs/event-prune/resume", null)).StatusCode);
        var job = Job(await admin.GetFromJsonAsync<JsonElement[]>("/api/admin/jobs"), EventPruneJob.Name);
        Assert.False(job.GetProperty("paused").GetBoolean());
        Assert.Equal(2099, job.GetProperty("nextRunAt").GetDateTimeOffset().Year);
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

    private static JsonElement Job(JsonElement[]? jobs, string name) => jobs!.Single(j => j.GetProperty("name").GetString() == name);
}

/// <summary>Two instances of the service on one database and storage: a cluster.</summary>
public class ClusterTests : IAsyncLifetime
{
    private readonly JobsApplication _first = new();
    private JobsApplication? _second;

    public async Task InitializeAsync()
    {
        await _first.InitializeAsync();
        _second = new JobsApplication { SharedConnectionString = _first.ConnectionString, StorageRoot = _first.StorageRoot };
        await _second.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        if (_second is not null) await ((IAsyncLifetime)_second).DisposeAsync();
        await ((IAsyncLifetime)_first).DisposeAsync();
    }

    [Fact]
    public async Task ATriggerRunsOnceAcrossTheClusterAndBothInstancesSeeTheSameJobs()
    {
        var firstAdmin = _first.Admin();
        var secondAdmin = _second!.Admin();
        var run = await JobDriver.TriggerAndWaitAsync(secondAdmin, EventPruneJob.Name);

        // Give any second (wrong) execution time to show up, then check there was exactly one.
        await Task.Delay(TimeSpan.FromSeconds(3));
        var runs = await JobDriver.RunsAsync(firstAdmin, EventPruneJob.Name);
        Assert.Single(runs);
        Assert.Equal(run.Id, runs[0].Id);

        var a = await firstAdmin.GetStringAsync("/api/admin/jobs");
        var b = await secondAdmin.GetStringAsync("/api/admin/jobs");
        Assert.Equal(a, b);
        Assert.Equal(JobsSetup.Catalog.Keys.Order(), JsonSerializer.Deserialize<JsonElement[]>(a)!.Select(j => j.GetProperty("name").GetString()!).Order());

        // Both schedulers are members of the one cluster.
        await using var conn = new NpgsqlConnection(_first.ConnectionString);
        Assert.Equal(2, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM qrtz_scheduler_state"));
    }
}

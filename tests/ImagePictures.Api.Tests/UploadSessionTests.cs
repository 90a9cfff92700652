using ImagePictures.Api.Uploads;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using ImagePictures.Api.Jobs;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ImagePictures.Api.Tests;

[Trait("Category", "Api")]
public sealed class UploadSessionTestsOnFileSystem(JobsApplication app) : UploadSessionTests(app), IClassFixture<JobsApplication>;
[Trait("Category", "Api")]
public sealed class UploadSessionTestsOnS3(UploadSessionTests.S3Application app) : UploadSessionTests(app), IClassFixture<UploadSessionTests.S3Application>;

/// <summary>Two-step uploads and temp-cleanup, once per storage provider.</summary>
[Trait("Category", "Api")]
public abstract class UploadSessionTests(JobsApplication app)
{
    public sealed class S3Application : JobsApplication
    {
        public S3Application() => UseS3();
    }

    private sealed record Staged(Guid Id, DateTime ExpiresAt, int Width, int Height, string PreviewUrl);

    /// <summary>Left half red, right half blue.</summary>
    private static byte[] Split(int w = 800, int h = 400) { using var img = TestImages.Split(w, h, TestImages.Red, TestImages.Blue); return TestImages.Jpeg(img); }

    private async Task<Staged> Stage(string user, byte[]? bytes = null)
    {
        var response = await app.ClientFor(user).PostAsync("/api/uploads", TestUploads.Form(bytes ?? Split()));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<Staged>())!;
    }

    [Fact]
    public async Task StagingSuggestsTheSquareOfTheSmartCrop()
    {
        // Plain grey with a saturated red disc near the right end: the attention crop keeps the disc.
        byte[] bytes;
        using (var canvas = TestImages.Canvas(900, 300, [128, 128, 128]))
        using (var withDisc = TestImages.WithCircle(canvas, TestImages.Red, 780, 150, 60))
            bytes = TestImages.Jpeg(withDisc);
        var response = await app.ClientFor("suggested").PostAsync("/api/uploads", TestUploads.Form(bytes));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var crop = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("suggestedCrop");
        Assert.Equal((300, 300, 0), (crop.GetProperty("width").GetInt32(), crop.GetProperty("height").GetInt32(), crop.GetProperty("y").GetInt32()));
        Assert.InRange(crop.GetProperty("x").GetInt32(), 900 - 300 - 60, 900 - 300); // holds the disc (720..840)

        // A square image: the whole image.
        var square = await app.ClientFor("suggested").PostAsync("/api/uploads", TestUploads.Form(TestImages.SolidJpeg(200, 200, TestImages.Blue)));
        var whole = (await square.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("suggestedCrop");
        Assert.Equal("""{"x":0,"y":0,"width":200,"height":200}""", whole.GetRawText());
    }

    [Fact]
    public async Task StagePreviewAndCommitACropOfTheRightHalf()
    {
        var client = app.ClientFor("ursula");
        var staged = await Stage("ursula");
        Assert.Equal((800, 400), (staged.Width, staged.Height));
        Assert.Equal($"/api/uploads/{staged.Id}/preview", staged.PreviewUrl);
        Assert.InRange(staged.ExpiresAt, DateTime.UtcNow.AddHours(1.9), DateTime.UtcNow.AddHours(2.1));
        Assert.True(await app.Stored.UploadExistsAsync(staged.Id));

        var preview = await client.GetAsync(staged.PreviewUrl);
        Assert.Equal(HttpStatusCode.OK, preview.StatusCode);
        Assert.Equal("image/jpeg", preview.Content.Headers.ContentType?.MediaType);
        Assert.Equal((800, 400, 3), TestImages.Size(await preview.Content.ReadAsByteArrayAsync()));
        Assert.Equal(HttpStatusCode.NotFound, (await app.ClientFor("mallory").GetAsync(staged.PreviewUrl)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.ClientFor("mallory").PostAsJsonAsync($"/api/uploads/{staged.Id}/commit", new { activate = true })).StatusCode);

        var commit = await client.PostAsJsonAsync($"/api/uploads/{staged.Id}/commit",
            new { activate = true, crop = new { x = 400, y = 0, width = 400, height = 400 } });
        Assert.Equal(HttpStatusCode.Created, commit.StatusCode);
        var picture = (await commit.Content.ReadFromJsonAsync<PictureJson>())!;
        Assert.Equal($"/api/users/ursula/pictures/{picture.Id}", commit.Headers.Location?.OriginalString);
        Assert.True(picture.IsActive);

        var variant = await app.CreateClient().GetByteArrayAsync($"/pictures/{picture.Id}/128");
        using (var image = TestImages.Decode(variant))
        {
            TestImages.AssertColour(TestImages.Blue, TestImages.Pixel(image, 10, 64));
            TestImages.AssertColour(TestImages.Blue, TestImages.Pixel(image, 118, 64));
        }
        Assert.False(await app.Stored.UploadExistsAsync(staged.Id)); // staged files gone

        var again = await client.PostAsJsonAsync($"/api/uploads/{staged.Id}/commit", new { activate = true });
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Equal("application/problem+json", again.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(staged.PreviewUrl)).StatusCode);
    }

    [Theory]
    [InlineData(0, 0, 31, 31)]
    [InlineData(500, 0, 400, 400)]
    [InlineData(-1, 0, 100, 100)]
    [InlineData(0, 100, 400, 400)]
    public async Task ACropTooSmallOrOutsideIs400(int x, int y, int width, int height)
    {
        var client = app.ClientFor("ulrich");
        var staged = await Stage("ulrich");
        var response = await client.PostAsJsonAsync($"/api/uploads/{staged.Id}/commit", new { activate = false, crop = new { x, y, width, height } });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        // The upload is untouched and can still be committed.
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync($"/api/uploads/{staged.Id}/commit", new { activate = false })).StatusCode);
    }

    [Fact]
    public async Task UnknownMalformedAndAbandonedUploads()
    {
        var client = app.ClientFor("uwe");
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsJsonAsync($"/api/uploads/{Guid.NewGuid()}/commit", new { activate = true })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsJsonAsync("/api/uploads/nope/commit", new { activate = true })).StatusCode);
        // Not multipart at all, or multipart without 'file': 400, as on the one-step upload route.
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/api/uploads", new StringContent("x"))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/api/uploads", TestUploads.Form(Split(), field: "picture"))).StatusCode);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, (await client.PostAsync("/api/uploads", TestUploads.Form("hello"u8.ToArray()))).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.ClientWithToken(null).PostAsync("/api/uploads", TestUploads.Form(Split()))).StatusCode);

        var staged = await Stage("uwe");
        Assert.Equal(HttpStatusCode.NotFound, (await app.ClientFor("mallory").DeleteAsync($"/api/uploads/{staged.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/uploads/{staged.Id}")).StatusCode);
        Assert.False(await app.Stored.UploadExistsAsync(staged.Id));
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/api/uploads/{staged.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(staged.PreviewUrl)).StatusCode);
    }

    [Fact]
    public async Task AnExpiredUploadIs404AndTempCleanupRemovesItWithCommittedOnesAndStrayFolders()
    {
        var client = app.ClientFor("uta");
        var expired = await Stage("uta");
        var committed = await Stage("uta");
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync($"/api/uploads/{committed.Id}/commit", new { activate = false })).StatusCode);
        var live = await Stage("uta");
        await using (var conn = new NpgsqlConnection(app.ConnectionString))
            await conn.ExecuteAsync("UPDATE staged_uploads SET expires_at = now() - interval '1 minute' WHERE id = @id", new { id = expired.Id });
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(expired.PreviewUrl)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsJsonAsync($"/api/uploads/{expired.Id}/commit", new { activate = true })).StatusCode);

        // A temp folder with no row (a crash between files and row). An object's date cannot be set
        // back, so the service's clock is moved past the TTL for this run instead: the stray is then old
        // enough to go, while the live upload stays because it has a row.
        var stray = Guid.NewGuid();
        await app.Stored.PlantUploadFileAsync(stray.ToString(), "staged.jpg", "x"u8.ToArray());
        JobDriver.Run run;
        app.Clock.Offset = TimeSpan.FromHours(app.Services.GetRequiredService<ImagePictures.Api.Uploads.UploadSessions>().Ttl.TotalHours + 1);
        try { run = await JobDriver.TriggerAndWaitAsync(app.Admin(), TempCleanupJob.Name); }
        finally { app.Clock.Offset = TimeSpan.Zero; }
        Assert.Equal("succeeded", run.Status);
        Assert.True(run.Found >= 3 && run.Deleted >= 3, JsonSerializer.Serialize(run));
        Assert.False(await app.Stored.UploadExistsAsync(expired.Id));
        Assert.False(await app.Stored.UploadExistsAsync(stray));
        Assert.True(await app.Stored.UploadExistsAsync(live.Id));

        await using var check = new NpgsqlConnection(app.ConnectionString);
        var left = (await check.QueryAsync<Guid>("SELECT id FROM staged_uploads WHERE user_id = 'uta'")).ToList();
        Assert.Equal(new[] { live.Id }, left);
    }

    [Fact]
    public async Task StagingWithThePictureQuotaFullIs409BeforeTheImageIsDecoded()
    {
        var max = app.Services.GetRequiredService<IOptions<PictureOptions>>().Value.MaxPicturesPerUser;
        await using (var conn = new NpgsqlConnection(app.ConnectionString))
            await conn.ExecuteAsync("""
                INSERT INTO pictures (id, user_id, width, height, bytes, content_hash, has_alpha)
                SELECT gen_random_uuid(), 'full-fiona', 64, 64, 100, 'x', false FROM generate_series(1, @max)
                """, new { max });
        var client = app.ClientFor("full-fiona");
        // Not an image at all: a 415 would mean it was decoded first; the quota answers before that.
        var refused = await client.PostAsync("/api/uploads", TestUploads.Form("not an image"u8.ToArray()));
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        Assert.Contains("trash", await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync("/api/uploads", TestUploads.Form(Split()))).StatusCode);
        await using var check = new NpgsqlConnection(app.ConnectionString);
        Assert.Equal(0, await check.ExecuteScalarAsync<int>("SELECT count(*) FROM staged_uploads WHERE user_id = 'full-fiona'"));
    }

    [Fact]
    public async Task AUserHoldsAtMostFiveOpenStagedUploads()
    {
        var client = app.ClientFor("stager-stan");
        var staged = new List<Staged>();
        for (var i = 0; i < 5; i++) staged.Add(await Stage("stager-stan", TestUploads.DefaultPng()));

        var sixth = await client.PostAsync("/api/uploads", TestUploads.Form(TestUploads.DefaultPng()));
        Assert.Equal(HttpStatusCode.Conflict, sixth.StatusCode);
        Assert.Equal("application/problem+json", sixth.Content.Headers.ContentType?.MediaType);
        var detail = JsonDocument.Parse(await sixth.Content.ReadAsStringAsync()).RootElement.GetProperty("detail").GetString();
        Assert.Contains("5", detail);
        Assert.Contains("commit", detail, StringComparison.OrdinalIgnoreCase);

        // Another user is not affected; committing or abandoning one makes room again.
        await Stage("stager-other", TestUploads.DefaultPng());
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsJsonAsync($"/api/uploads/{staged[0].Id}/commit", new { activate = false })).StatusCode);
        await Stage("stager-stan", TestUploads.DefaultPng());
        Assert.Equal(HttpStatusCode.Conflict, (await client.PostAsync("/api/uploads", TestUploads.Form(TestUploads.DefaultPng()))).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/uploads/{staged[1].Id}")).StatusCode);
        await Stage("stager-stan", TestUploads.DefaultPng());
    }

    [Fact]
    public async Task DeletingAnAccountRemovesItsStagedUploads()
    {
        var client = app.ClientFor("leaver");
        var staged = await Stage("leaver");
        var kept = await Stage("stayer");
        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync("/api/users/leaver")).StatusCode);

        Assert.False(await app.Stored.UploadExistsAsync(staged.Id));
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(staged.PreviewUrl)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsJsonAsync($"/api/uploads/{staged.Id}/commit", new { activate = true })).StatusCode);
        Assert.Empty((await client.GetFromJsonAsync<PictureJson[]>("/api/users/leaver/pictures"))!);
        Assert.Empty(await app.Stored.UserEntriesAsync("leaver"));
        await using (var conn = new NpgsqlConnection(app.ConnectionString))
            Assert.Equal(0, await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM staged_uploads WHERE user_id = 'leaver'"));

        // Other users' staged uploads stay.
        Assert.True(await app.Stored.UploadExistsAsync(kept.Id));
        Assert.Equal(HttpStatusCode.OK, (await app.ClientFor("stayer").GetAsync(kept.PreviewUrl)).StatusCode);
    }

    [Fact]
    public async Task ACommitQueuedBehindTheAccountDeletionFailsAndLeavesNothing()
    {
        const string user = "racer";
        var client = app.ClientFor(user);
        var staged = await Stage(user);

        // Hold the user's lock (the key UserChanges uses), queue the deletion first and the commit
        // behind it, then let them go: the deletion runs first, and the commit must not bring the account back.
        await using var holder = new NpgsqlConnection(app.ConnectionString);
        await holder.OpenAsync();
        await holder.ExecuteAsync("SELECT pg_advisory_lock(hashtextextended(@user, 7))", new { user });
        var deletion = client.DeleteAsync($"/api/users/{user}");
        await WaitForLockWaitersAsync(holder, 1);
        var commit = client.PostAsJsonAsync($"/api/uploads/{staged.Id}/commit", new { activate = true });
        await WaitForLockWaitersAsync(holder, 2);
        await holder.ExecuteAsync("SELECT pg_advisory_unlock(hashtextextended(@user, 7))", new { user });

        Assert.Equal(HttpStatusCode.OK, (await deletion).StatusCode);
        var committed = await commit;
        Assert.Equal(HttpStatusCode.NotFound, committed.StatusCode);
        Assert.Equal("application/problem+json", committed.Content.Headers.ContentType?.MediaType);
        Assert.Empty((await client.GetFromJsonAsync<PictureJson[]>($"/api/users/{user}/pictures"))!);
        Assert.Empty(await app.Stored.UserEntriesAsync(user));
        Assert.False(await app.Stored.UploadExistsAsync(staged.Id));
        Assert.Equal(HttpStatusCode.NotFound, (await app.CreateClient().GetAsync($"/avatars/{user}?size=64&default=404")).StatusCode);
    }

    /// <summary>Waits until this many connections of this test's database wait for an advisory lock.</summary>
    private static Task WaitForLockWaitersAsync(NpgsqlConnection conn, int count) =>
        Eventually(async () => await conn.ExecuteScalarAsync<int>("""
            SELECT count(*) FROM pg_locks
            WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
            """) >= count, $"{count} requests waiting for the user's lock");
}

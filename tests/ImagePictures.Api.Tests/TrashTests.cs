using ImagePictures.Api.Trash;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ImagePictures.Api.Jobs;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Tests.Infrastructure;
using ImagePictures.Imaging;
using ImagePictures.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ImagePictures.Api.Tests;

[Trait("Category", "Api")]
public sealed class TrashTestsOnFileSystem(TrashTests.Application app) : TrashTests(app), IClassFixture<TrashTests.Application>;
[Trait("Category", "Api")]
public sealed class TrashTestsOnS3(TrashTests.S3Application app) : TrashTests(app), IClassFixture<TrashTests.S3Application>;

/// <summary>The trash routes and trash-purge, once per storage provider.</summary>
[Trait("Category", "Api")]
public abstract class TrashTests(TrashTests.Application app)
{
    /// <summary>Trashed pictures are due for purging at once, so a triggered trash-purge takes them.</summary>
    public class Application : JobsApplication
    {
        public Application() => With("Trash:RetentionDays", "0");
    }

    public sealed class S3Application : Application
    {
        public S3Application() => UseS3();
    }

    private static byte[] Photo() { using var img = TestImages.Split(300, 200, TestImages.Red, TestImages.Blue); return TestImages.Jpeg(img); }

    private async Task<PictureJson> Trashed(string user)
    {
        var client = app.ClientFor(user);
        var created = await client.PostAsync($"/api/users/{user}/pictures", TestUploads.Form(Photo()));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var picture = (await created.Content.ReadFromJsonAsync<PictureJson>())!;
        var trashed = await client.DeleteAsync($"/api/users/{user}/pictures/{picture.Id}");
        Assert.Equal(HttpStatusCode.OK, trashed.StatusCode);
        return (await trashed.Content.ReadFromJsonAsync<PictureJson>())!;
    }

    private Task<bool> Stored(string user, Guid id) => app.Stored.PictureExistsAsync(user, id);

    /// <summary>
    /// What is stored of a picture is exactly what <see cref="PictureFiles"/> names for it (opaque and
    /// with alpha), and both purges (the route's one picture, trash-purge's batch) leave no file of it:
    /// on S3, where a purge deletes the keys it names without listing, a name missing there would stay.
    /// </summary>
    [Fact]
    public async Task StoredFilesAreTheNamedOnesAndPurgesLeaveNone()
    {
        const string user = "trash-names";
        var files = app.Services.GetRequiredService<PictureFiles>();
        using var alphaImage = TestImages.Canvas(300, 300, [10, 20, 30, 128]);
        var client = app.ClientFor(user);
        var pictures = new List<PictureJson>();
        foreach (var (bytes, alpha) in new[] { (Photo(), false), (TestImages.Png(alphaImage), true), (Photo(), false), (TestImages.Png(alphaImage), true) })
        {
            var created = await client.PostAsync($"/api/users/{user}/pictures", TestUploads.Form(bytes));
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            var picture = (await created.Content.ReadFromJsonAsync<PictureJson>())!;
            Assert.Equal(files.Of(alpha).Order(), (await app.Stored.PictureFilesAsync(user, picture.Id)).Order());
            Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"/api/users/{user}/pictures/{picture.Id}")).StatusCode);
            pictures.Add(picture);
        }

        foreach (var picture in pictures[..2])
            Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/users/{user}/trash/{picture.Id}")).StatusCode);
        Assert.Equal("succeeded", (await JobDriver.TriggerAndWaitAsync(app.Admin(), TrashPurgeJob.Name)).Status);
        foreach (var picture in pictures)
            Assert.Empty(await app.Stored.PictureFilesAsync(user, picture.Id));
    }

    [Theory]
    [InlineData(Callers.Owner)]
    [InlineData(Callers.Admin)]
    public async Task OwnerAndAdminUseEveryTrashRoute(string caller)
    {
        var user = $"trash-{caller}";
        var first = await Trashed(user);
        var second = await Trashed(user);
        var client = Callers.Client(app, caller, user);

        var list = (await client.GetFromJsonAsync<PictureJson[]>($"/api/users/{user}/trash"))!;
        Assert.Equal(new[] { second.Id, first.Id }, list.Select(p => p.Id)); // newest first
        Assert.All(list, p => Assert.NotNull(p.DeletedAt));

        var restored = await client.PostAsync($"/api/users/{user}/trash/{first.Id}/restore", null);
        Assert.Equal(HttpStatusCode.OK, restored.StatusCode);
        var picture = (await restored.Content.ReadFromJsonAsync<PictureJson>())!;
        Assert.Null(picture.DeletedAt);
        Assert.Null(picture.PurgeAfter);
        Assert.False(picture.IsActive); // not made active by itself
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync($"/api/users/{user}/trash/{first.Id}/restore", null)).StatusCode); // no longer in the trash
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/api/users/{user}/trash/{first.Id}")).StatusCode); // live, not in the trash

        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/users/{user}/trash/{second.Id}")).StatusCode);
        Assert.False(await Stored(user, second.Id));
        Assert.Equal(HttpStatusCode.NotFound, (await client.DeleteAsync($"/api/users/{user}/trash/{second.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.CreateClient().GetAsync($"/pictures/{second.Id}/64")).StatusCode);

        var third = await Trashed(user);
        var fourth = await Trashed(user);
        var emptied = await client.DeleteAsync($"/api/users/{user}/trash");
        Assert.Equal(HttpStatusCode.OK, emptied.StatusCode);
        var counts = await emptied.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal((2, 2, 0), (counts.GetProperty("found").GetInt32(), counts.GetProperty("deleted").GetInt32(), counts.GetProperty("failed").GetInt32()));
        Assert.False(await Stored(user, third.Id));
        Assert.False(await Stored(user, fourth.Id));
        Assert.Empty((await client.GetFromJsonAsync<PictureJson[]>($"/api/users/{user}/trash"))!);
        Assert.True(await Stored(user, first.Id)); // the restored one stays
    }

    [Fact]
    public async Task AnotherUserIsForbiddenOnEveryTrashRoute()
    {
        const string user = "trash-victim";
        var picture = await Trashed(user);
        var other = app.ClientFor("mallory");
        var responses = new[]
        {
            await other.GetAsync($"/api/users/{user}/trash"),
            await other.PostAsync($"/api/users/{user}/trash/{picture.Id}/restore", null),
            await other.DeleteAsync($"/api/users/{user}/trash/{picture.Id}"),
            await other.DeleteAsync($"/api/users/{user}/trash"),
        };
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
        Assert.Equal(HttpStatusCode.Unauthorized, (await app.ClientWithToken(null).GetAsync($"/api/users/{user}/trash")).StatusCode);
        Assert.True(await Stored(user, picture.Id));
        Assert.Single((await app.ClientFor(user).GetFromJsonAsync<PictureJson[]>($"/api/users/{user}/trash"))!);
    }

    [Fact]
    public async Task UnknownOrMalformedIdsAre404Or400()
    {
        var client = app.ClientFor("trash-unknown");
        var unknown = Guid.NewGuid();
        Assert.Equal(HttpStatusCode.NotFound, (await client.PostAsync($"/api/users/me/trash/{unknown}/restore", null)).StatusCode);
        var purge = await client.DeleteAsync($"/api/users/me/trash/{unknown}");
        Assert.Equal(HttpStatusCode.NotFound, purge.StatusCode);
        Assert.Equal("application/problem+json", purge.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.PostAsync("/api/users/me/trash/not-a-guid/restore", null)).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.DeleteAsync("/api/users/me/trash/not-a-guid")).StatusCode);
        Assert.Empty((await client.GetFromJsonAsync<PictureJson[]>("/api/users/me/trash"))!);
        var emptied = await client.DeleteAsync("/api/users/me/trash");
        Assert.Equal(0, (await emptied.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("found").GetInt32());
    }

    /// <summary>
    /// A real storage failure: the picture folder is made immutable (chattr +i), or a bucket policy
    /// denies deleting its objects, so not one of its files can be deleted. The purge answers 503 and
    /// keeps the row; the next trash-purge run, after storage recovers, purges it.
    /// </summary>
    [Fact]
    public async Task AStorageFailureKeepsTheRowAnswers503AndTheNextJobRunPurges()
    {
        const string user = "trash-stuck";
        var picture = await Trashed(user);
        var client = app.ClientFor(user);
        await using (await app.Stored.BlockDeletesAsync(user, picture.Id))
        {
            var response = await client.DeleteAsync($"/api/users/{user}/trash/{picture.Id}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.NotNull(response.Headers.RetryAfter);
            var body = await response.Content.ReadAsStringAsync();
            Assert.DoesNotContain(app.StorageRoot, body);

            var emptied = await (await client.DeleteAsync($"/api/users/{user}/trash")).Content.ReadFromJsonAsync<JsonElement>();
            Assert.Equal((1, 0, 1), (emptied.GetProperty("found").GetInt32(), emptied.GetProperty("deleted").GetInt32(), emptied.GetProperty("failed").GetInt32()));

            var failedRun = await JobDriver.TriggerAndWaitAsync(app.Admin(), TrashPurgeJob.Name);
            Assert.Equal("partial", failedRun.Status);
            Assert.True(failedRun.Failed >= 1);

            var trash = (await client.GetFromJsonAsync<PictureJson[]>($"/api/users/{user}/trash"))!;
            Assert.Equal(picture.Id, Assert.Single(trash).Id);
            Assert.Contains("64.webp", await app.Stored.PictureFilesAsync(user, picture.Id)); // nothing half-deleted
            Assert.Equal(11, (await app.Stored.PictureFilesAsync(user, picture.Id)).Length);
        }

        var run = await JobDriver.TriggerAndWaitAsync(app.Admin(), TrashPurgeJob.Name);
        Assert.Equal("succeeded", run.Status);
        Assert.False(await Stored(user, picture.Id));
        Assert.Empty((await client.GetFromJsonAsync<PictureJson[]>($"/api/users/{user}/trash"))!);
    }
}

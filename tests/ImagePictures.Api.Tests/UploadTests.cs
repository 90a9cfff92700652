using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Tests.Infrastructure;

namespace ImagePictures.Api.Tests;

[Trait("Category", "Api")]
public sealed class UploadTestsOnFileSystem(PicturesApplication app) : UploadTests(app), IClassFixture<PicturesApplication>;
[Trait("Category", "Api")]
public sealed class UploadTestsOnS3(S3PicturesApplication app) : UploadTests(app), IClassFixture<S3PicturesApplication>;

/// <summary>Uploads and what they store, once per storage provider.</summary>
[Trait("Category", "Api")]
public abstract class UploadTests(PicturesApplication app)
{
    private static byte[] Photo(int w = 1200, int h = 800) { using var img = TestImages.Split(w, h, TestImages.Red, TestImages.Blue); return TestImages.Jpeg(img); }

    private async Task<HttpResponseMessage> Upload(string user, byte[] bytes, string query = "", string? title = null) =>
        await app.ClientFor(user).PostAsync($"/api/users/{user}/pictures{query}", TestUploads.Form(bytes, title: title));

    [Fact]
    public async Task UploadStoresASquareNormalisedPictureWithEveryVariant()
    {
        var response = await Upload("uma", Photo(), "?activate=true", title: "Beach, 2026");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var picture = (await response.Content.ReadFromJsonAsync<PictureJson>())!;
        Assert.Equal($"/api/users/uma/pictures/{picture.Id}", response.Headers.Location?.OriginalString);
        Assert.Equal((512, 512), (picture.Width, picture.Height));
        Assert.True(picture.IsActive);
        Assert.Equal("Beach, 2026", picture.Title);
        Assert.Equal(64, picture.ContentHash.Length);
        Assert.Equal(new[] { "32", "64", "128", "256", "512" }, picture.Urls.Keys);

        var files = await app.Stored.PictureFilesAsync("uma", picture.Id);
        Assert.Equal(11, files.Length);
        foreach (var size in new[] { 32, 64, 128, 256, 512 })
        {
            Assert.Equal((size, size, 3), TestImages.Size(await app.Stored.ReadPictureFileAsync("uma", picture.Id, $"{size}.webp")));
            Assert.Equal((size, size, 3), TestImages.Size(await app.Stored.ReadPictureFileAsync("uma", picture.Id, $"{size}.jpg")));
        }
        var master = await app.Stored.ReadPictureFileAsync("uma", picture.Id, files.Single(f => f.StartsWith("master.")));
        Assert.Equal(picture.Bytes, master.Length);
        Assert.Equal(picture.ContentHash, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(master)));
        // Nothing but the picture's files: no staging folder or temp names left behind.
        Assert.Equal(new[] { picture.Id.ToString() }, await app.Stored.UserEntriesAsync("uma"));
    }

    [Fact]
    public async Task ListGetRenameAndActivateWork()
    {
        var first = (await (await Upload("vera", Photo())).Content.ReadFromJsonAsync<PictureJson>())!;
        var second = (await (await Upload("vera", Photo())).Content.ReadFromJsonAsync<PictureJson>())!;
        var client = app.ClientFor("vera");

        var list = (await client.GetFromJsonAsync<PictureJson[]>("/api/users/vera/pictures"))!;
        Assert.Equal(new[] { second.Id, first.Id }, list.Select(p => p.Id)); // newest first
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/users/vera/active-picture")).StatusCode); // not activated

        var renamed = await client.PatchAsJsonAsync($"/api/users/vera/pictures/{first.Id}", new { title = "Old one" });
        Assert.Equal("Old one", (await renamed.Content.ReadFromJsonAsync<PictureJson>())!.Title);
        var cleared = await client.PatchAsJsonAsync($"/api/users/vera/pictures/{first.Id}", new { title = (string?)null });
        Assert.Null((await cleared.Content.ReadFromJsonAsync<PictureJson>())!.Title);
        var tooLong = await client.PatchAsJsonAsync($"/api/users/vera/pictures/{first.Id}", new { title = new string('x', 201) });
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);

        var activated = await client.PutAsJsonAsync("/api/users/vera/active-picture", new { pictureId = first.Id });
        Assert.Equal(HttpStatusCode.OK, activated.StatusCode);
        var active = (await client.GetFromJsonAsync<PictureJson>("/api/users/me/active-picture"))!;
        Assert.Equal(first.Id, active.Id);
        Assert.True(active.IsActive);
    }

    [Fact]
    public async Task TrashingTheActivePictureFallsBackToTheNewestOtherLivePicture()
    {
        var client = app.ClientFor("wes");
        var older = (await (await Upload("wes", Photo())).Content.ReadFromJsonAsync<PictureJson>())!;
        var newer = (await (await Upload("wes", Photo())).Content.ReadFromJsonAsync<PictureJson>())!;
        var active = (await (await Upload("wes", Photo(), "?activate=true")).Content.ReadFromJsonAsync<PictureJson>())!;

        var trashed = await client.DeleteAsync($"/api/users/wes/pictures/{active.Id}");
        Assert.Equal(HttpStatusCode.OK, trashed.StatusCode);
        var body = (await trashed.Content.ReadFromJsonAsync<PictureJson>())!;
        Assert.NotNull(body.DeletedAt);
        Assert.Equal(body.DeletedAt!.Value.AddDays(30), body.PurgeAfter);
        Assert.Equal(newer.Id, (await client.GetFromJsonAsync<PictureJson>("/api/users/wes/active-picture"))!.Id);

        // A trashed picture cannot be made active, is not listed and its variants are gone from the public route.
        Assert.Equal(HttpStatusCode.NotFound, (await client.PutAsJsonAsync("/api/users/wes/active-picture", new { pictureId = active.Id })).StatusCode);
        Assert.DoesNotContain((await client.GetFromJsonAsync<PictureJson[]>("/api/users/wes/pictures"))!, p => p.Id == active.Id);
        Assert.Equal(HttpStatusCode.NotFound, (await app.CreateClient().GetAsync($"/pictures/{active.Id}/64")).StatusCode);

        await client.DeleteAsync($"/api/users/wes/pictures/{newer.Id}");
        await client.DeleteAsync($"/api/users/wes/pictures/{older.Id}");
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/api/users/wes/active-picture")).StatusCode);
    }

    [Fact]
    public async Task HostileInputsGetTheContractsStatusAndLeaveNothingBehind()
    {
        const string user = "hostile-hal";
        var cases = new (string Name, HttpContent Content, HttpStatusCode Expected)[]
        {
            ("svg", TestUploads.Form(Encoding.UTF8.GetBytes("<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>")), HttpStatusCode.UnsupportedMediaType),
            ("pdf", TestUploads.Form(Encoding.ASCII.GetBytes("%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF")), HttpStatusCode.UnsupportedMediaType),
            ("html", TestUploads.Form(Encoding.UTF8.GetBytes("<!doctype html><html><body>hi</body></html>")), HttpStatusCode.UnsupportedMediaType),
            ("tiff", TestUploads.Form(Tiff()), HttpStatusCode.UnsupportedMediaType),
            ("truncated jpeg", TestUploads.Form(Photo()[..3000]), HttpStatusCode.UnprocessableEntity),
            ("jpeg header then random bytes", TestUploads.Form([0xFF, 0xD8, 0xFF, 0xE0, .. RandomBytes(5000)]), HttpStatusCode.UnprocessableEntity),
            ("50000x50000 png", TestUploads.Form(TestImages.PngHeaderOnly(50000, 50000)), HttpStatusCode.UnprocessableEntity),
            ("jpeg claiming 60000x60000", TestUploads.Form(TestImages.JpegClaiming(60000, 60000)), HttpStatusCode.UnprocessableEntity),
            ("11 MiB", TestUploads.Form(new byte[11 * 1024 * 1024]), HttpStatusCode.RequestEntityTooLarge),
            ("empty file", TestUploads.Form([]), HttpStatusCode.BadRequest),
            ("no file field", TestUploads.Form(Photo(), field: "picture"), HttpStatusCode.BadRequest),
            ("not multipart", JsonContent.Create(new { file = "abc" }), HttpStatusCode.BadRequest),
        };
        foreach (var (name, content, expected) in cases)
        {
            var response = await app.ClientFor(user).PostAsync($"/api/users/{user}/pictures", content);
            Assert.True(expected == response.StatusCode, $"{name}: expected {(int)expected}, got {(int)response.StatusCode}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            var problem = await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>();
            Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()), name);
            Assert.DoesNotContain("/", problem.GetProperty("detail").GetString()!.Replace("multipart/form-data", "").Replace("/api", ""));
        }
        Assert.Empty((await app.ClientFor(user).GetFromJsonAsync<PictureJson[]>($"/api/users/{user}/pictures"))!);
        Assert.Empty(await app.Stored.UserEntriesAsync(user));
    }

    [Fact]
    public async Task AJpegWithATrailingScriptIsAcceptedAndStoredReEncoded()
    {
        var bytes = Photo().Concat(Encoding.ASCII.GetBytes("<script>alert(document.cookie)</script>")).ToArray();
        var response = await Upload("trailing-tom", bytes);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var picture = (await response.Content.ReadFromJsonAsync<PictureJson>())!;
        var files = await app.Stored.PictureFilesAsync("trailing-tom", picture.Id);
        Assert.NotEmpty(files);
        foreach (var file in files)
            Assert.False(TestImages.Contains(await app.Stored.ReadPictureFileAsync("trailing-tom", picture.Id, file), "<script"), file);
    }

    [Fact]
    public async Task ServedBytesCarryNoGpsOrExif()
    {
        var jpeg = TestImages.InsertSegments(Photo(), (0xE1, TestImages.ExifWithGps()));
        Assert.True(TestImages.Contains(jpeg, "GPS") || TestImages.Contains(jpeg, "Exif"));
        var picture = (await (await Upload("gps-gail", jpeg)).Content.ReadFromJsonAsync<PictureJson>())!;
        var anonymous = app.CreateClient();
        foreach (var accept in new[] { "image/webp", "image/jpeg" })
        foreach (var size in picture.Urls.Values)
        {
            var request = new HttpRequestMessage(HttpMethod.Get, size);
            request.Headers.Accept.ParseAdd(accept);
            var served = await (await anonymous.SendAsync(request)).Content.ReadAsByteArrayAsync();
            Assert.False(TestImages.Contains(served, "Exif"), size);
            Assert.False(TestImages.Contains(served, "GPS"), size);
        }
    }

    private static byte[] Tiff() { using var img = TestImages.Canvas(64, 64, TestImages.Green); return TestImages.Tiff(img); }
    private static byte[] RandomBytes(int n) { var b = new byte[n]; new Random(42).NextBytes(b); return b; }
}

/// <summary>Limits that do not depend on the store: each test starts a host of its own on the file system.</summary>
[Trait("Category", "Api")]
public class UploadLimitTests
{
    private static byte[] Photo(int w = 1200, int h = 800) { using var img = TestImages.Split(w, h, TestImages.Red, TestImages.Blue); return TestImages.Jpeg(img); }

    [Fact]
    public async Task QuotaCountsTrashedPicturesAndAnswers409()
    {
        await using var small = new PicturesApplication().With("Pictures:MaxPicturesPerUser", "2");
        await small.InitializeAsync();
        var client = small.ClientFor("quota-quinn");
        var first = (await (await client.PostAsync("/api/users/me/pictures", TestUploads.Form(Photo()))).Content.ReadFromJsonAsync<PictureJson>())!;
        Assert.Equal(HttpStatusCode.Created, (await client.PostAsync("/api/users/me/pictures", TestUploads.Form(Photo()))).StatusCode);
        await client.DeleteAsync($"/api/users/me/pictures/{first.Id}");
        var third = await client.PostAsync("/api/users/me/pictures", TestUploads.Form(Photo()));
        Assert.Equal(HttpStatusCode.Conflict, third.StatusCode);
        Assert.Contains("trash", (await third.Content.ReadAsStringAsync()));
        await ((IAsyncLifetime)small).DisposeAsync();
    }

    [Fact]
    public async Task UploadsBeyondTheRateLimitAre429WithRetryAfter()
    {
        await using var limited = new PicturesApplication().With("RateLimits:UploadsPerMinute", "2");
        await limited.InitializeAsync();
        var client = limited.ClientFor("rapid-rita");
        var bytes = TestUploads.DefaultPng();
        var statuses = new List<HttpStatusCode>();
        HttpResponseMessage? last = null;
        for (var i = 0; i < 3; i++)
        {
            last = await client.PostAsync("/api/users/me/pictures", TestUploads.Form(bytes));
            statuses.Add(last.StatusCode);
        }
        Assert.Equal(new[] { HttpStatusCode.Created, HttpStatusCode.Created, HttpStatusCode.TooManyRequests }, statuses);
        Assert.True(last!.Headers.RetryAfter is not null);
        Assert.Equal("application/problem+json", last.Content.Headers.ContentType?.MediaType);
        // Another user has a bucket of their own.
        Assert.Equal(HttpStatusCode.Created, (await limited.ClientFor("calm-carla").PostAsync("/api/users/me/pictures", TestUploads.Form(bytes))).StatusCode);
        await ((IAsyncLifetime)limited).DisposeAsync();
    }
}

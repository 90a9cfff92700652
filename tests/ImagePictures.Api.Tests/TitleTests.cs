using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Tests.Infrastructure;

namespace ImagePictures.Api.Tests;

/// <summary>Titles are checked before any work: at most 200 characters, no control characters but tab.</summary>
[Trait("Category", "Api")]
public class TitleTests(PicturesApplication app) : IClassFixture<PicturesApplication>
{
    private static byte[] Photo() { using var img = TestImages.Split(300, 200, TestImages.Red, TestImages.Blue); return TestImages.Jpeg(img); }

    private static async Task<string> Detail(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
    }

    private async Task<PictureJson> Upload(string user, string? title = null)
    {
        var response = await app.ClientFor(user).PostAsync($"/api/users/{user}/pictures", TestUploads.Form(Photo(), title: title));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PictureJson>())!;
    }

    public static TheoryData<string, string> BadTitles() => new()
    {
        { "a\u0000b", "control character (U+0000)" },
        { "line\nbreak", "control character (U+000A)" },
        { "esc\u001b[31m", "control character (U+001B)" },
        { "del\u007f", "control character (U+007F)" },
        { "c1\u0085", "control character (U+0085)" },
        { new string('x', 201), "200 characters" },
    };

    [Theory]
    [MemberData(nameof(BadTitles))]
    public async Task RenamingToABadTitleIs400WithAReasonAndChangesNothing(string title, string reason)
    {
        var picture = await Upload("title-rita", "kept");
        var response = await app.ClientFor("title-rita").PatchAsJsonAsync($"/api/users/title-rita/pictures/{picture.Id}", new { title });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, await Detail(response));
        var now = await app.ClientFor("title-rita").GetFromJsonAsync<PictureJson>($"/api/users/title-rita/pictures/{picture.Id}");
        Assert.Equal("kept", now!.Title);
    }

    [Fact]
    public async Task AnEmptyRenameBodyIs400AndKeepsTheTitleWhileAnExplicitNullClearsIt()
    {
        var picture = await Upload("title-emma", title: "Summer");
        var client = app.ClientFor("title-emma");
        var url = $"/api/users/title-emma/pictures/{picture.Id}";

        var empty = await client.PatchAsync(url, new StringContent("{}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
        var detail = await Detail(empty);
        Assert.Contains("\"title\"", detail);
        Assert.Contains("null", detail);
        Assert.Equal("Summer", (await client.GetFromJsonAsync<PictureJson>(url))!.Title);

        var cleared = await client.PatchAsync(url, new StringContent("{\"title\":null}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.OK, cleared.StatusCode);
        Assert.Null((await cleared.Content.ReadFromJsonAsync<PictureJson>())!.Title);
    }

    [Fact]
    public async Task ALoneSurrogateInARenameIs400() // System.Text.Json refuses it already; PictureTitles would too
    {
        var picture = await Upload("title-sue");
        var body = new StringContent("{\"title\":\"a\\ud800b\"}", Encoding.UTF8, "application/json");
        var response = await app.ClientFor("title-sue").PatchAsync($"/api/users/title-sue/pictures/{picture.Id}", body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotEmpty(await Detail(response));
    }

    [Theory]
    [MemberData(nameof(BadTitles))]
    public async Task AnUploadWithABadTitleIs400BeforeTheImageIsLookedAtAndStoresNothing(string title, string reason)
    {
        const string user = "title-uma";
        // Bytes that are no image at all: checked first, they would be 415; the title is refused before.
        var garbage = await app.ClientFor(user).PostAsync($"/api/users/{user}/pictures", TestUploads.Form("not an image"u8.ToArray(), title: title));
        Assert.Equal(HttpStatusCode.BadRequest, garbage.StatusCode);
        Assert.Contains(reason, await Detail(garbage));

        var photo = await app.ClientFor(user).PostAsync($"/api/users/{user}/pictures", TestUploads.Form(Photo(), title: title));
        Assert.Equal(HttpStatusCode.BadRequest, photo.StatusCode);
        Assert.Empty((await app.ClientFor(user).GetFromJsonAsync<List<PictureJson>>($"/api/users/{user}/pictures"))!);
        Assert.False(Directory.Exists(app.UserFolder(user)) && Directory.EnumerateFileSystemEntries(app.UserFolder(user)).Any());
    }

    [Fact]
    public async Task ATabAndAnyPrintableUnicodeAreKept()
    {
        const string title = "Beach\t2026 — 海辺 🏖️";
        var picture = await Upload("title-tina", title);
        Assert.Equal(title, picture.Title);
        var renamed = await app.ClientFor("title-tina").PatchAsJsonAsync($"/api/users/title-tina/pictures/{picture.Id}", new { title = "x\ty" });
        Assert.Equal(HttpStatusCode.OK, renamed.StatusCode);
        Assert.Equal("x\ty", (await renamed.Content.ReadFromJsonAsync<PictureJson>())!.Title);
    }
}

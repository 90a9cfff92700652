using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Tests.Infrastructure;

namespace ImagePictures.Api.Tests;

/// <summary>The multipart reader behind both upload routes, fed raw bodies it must accept or refuse.</summary>
[Trait("Category", "Api")]
public class UploadFormTests(PicturesApplication app) : IClassFixture<PicturesApplication>
{
    private static byte[] Photo() { using var img = TestImages.Split(900, 600, TestImages.Red, TestImages.Blue); return TestImages.Jpeg(img); }

    /// <summary>No Content-Length: HttpClient sends the body chunked, as a browser streaming a file may.</summary>
    private sealed class ForwardOnlyStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }

    private static async Task<HttpContent> Chunked(HttpContent form)
    {
        var bytes = await form.ReadAsByteArrayAsync();
        var content = new StreamContent(new ForwardOnlyStream(bytes));
        content.Headers.ContentType = form.Headers.ContentType;
        return content;
    }

    private static HttpContent Raw(string body, string contentType)
    {
        var content = new ByteArrayContent(Encoding.ASCII.GetBytes(body.ReplaceLineEndings("\r\n")));
        content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        return content;
    }

    private async Task<List<PictureJson>> Pictures(string user) =>
        (await app.ClientFor(user).GetFromJsonAsync<List<PictureJson>>($"/api/users/{user}/pictures"))!;

    [Fact]
    public async Task AChunkedUploadWithATitleIsStored()
    {
        var content = await Chunked(TestUploads.Form(Photo(), title: "Streamed in"));
        Assert.Null(content.Headers.ContentLength);
        var response = await app.ClientFor("chunk-chen").PostAsync("/api/users/chunk-chen/pictures", content);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("Streamed in", (await response.Content.ReadFromJsonAsync<PictureJson>())!.Title);
    }

    [Fact]
    public async Task AChunkedUploadOverTheLimitIs413AndStoresNothing()
    {
        var content = await Chunked(TestUploads.Form(new byte[11 * 1024 * 1024]));
        var response = await app.ClientFor("chunk-carl").PostAsync("/api/users/chunk-carl/pictures", content);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("MiB", (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("detail").GetString());
        Assert.Empty(await Pictures("chunk-carl"));
    }

    [Fact]
    public async Task AFileAfterOtherFieldsAndATitleOfExactly200CharactersAreAccepted()
    {
        var form = new MultipartFormDataContent
        {
            { new StringContent("ignored"), "note" },
            { new StringContent(new string('t', 200)), "title" },
        };
        form.Add(new ByteArrayContent(Photo()), "file", "photo.jpg");
        var response = await app.ClientFor("field-fay").PostAsync("/api/users/field-fay/pictures", form);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal(200, (await response.Content.ReadFromJsonAsync<PictureJson>())!.Title!.Length);
    }

    public static TheoryData<string, string, string, string> MalformedForms() => new()
    {
        { "no boundary", "multipart/form-data", "--x\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\n\nabc\n--x--\n", "boundary" },
        { "cut off before the closing boundary", "multipart/form-data; boundary=x", "--x\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\n\nabcdef", "malformed" },
        { "a part without Content-Disposition", "multipart/form-data; boundary=x", "--x\nContent-Type: image/jpeg\n\nabc\n--x--\n", "Content-Disposition" },
        { "a title of 201 characters", "multipart/form-data; boundary=x", $"--x\nContent-Disposition: form-data; name=\"title\"\n\n{new string('t', 201)}\n--x\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\n\nabc\n--x--\n", "200 characters" },
        { "17 fields", "multipart/form-data; boundary=x", string.Concat(Enumerable.Range(0, 17).Select(i => $"--x\nContent-Disposition: form-data; name=\"f{i}\"\n\nv\n")) + "--x--\n", "16 fields" },
        { "only a title", "multipart/form-data; boundary=x", "--x\nContent-Disposition: form-data; name=\"title\"\n\nhello\n--x--\n", "'file'" },
    };

    [Theory]
    [MemberData(nameof(MalformedForms))]
    public async Task AMalformedFormIs400WithAReasonAndStoresNothing(string name, string contentType, string body, string reason)
    {
        var user = "malformed-mo";
        var response = await app.ClientFor(user).PostAsync($"/api/users/{user}/pictures", Raw(body, contentType));
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{name}: got {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var detail = (await response.Content.ReadFromJsonAsync<System.Text.Json.JsonElement>()).GetProperty("detail").GetString();
        Assert.Contains(reason, detail);
        Assert.Empty(await Pictures(user));
    }
}

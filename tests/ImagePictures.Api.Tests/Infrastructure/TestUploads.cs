using System.Net.Http.Headers;
using ImagePictures.Api.Hosting;

namespace ImagePictures.Api.Tests.Infrastructure;

public static class TestUploads
{
    public static byte[] DefaultPng() => File.ReadAllBytes(Path.Combine(RepositoryRoot.Find(), "images", "default", "default.png"));

    public static MultipartFormDataContent Form(byte[] bytes, string fileName = "picture.png", string? title = null, string field = "file")
    {
        var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        form.Add(file, field, fileName);
        if (title is not null) form.Add(new StringContent(title), "title");
        return form;
    }
}

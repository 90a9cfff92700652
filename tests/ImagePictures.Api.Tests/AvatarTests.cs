using System.Net;
using System.Net.Http.Json;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Tests.Infrastructure;
using ImagePictures.Imaging.Tests;

namespace ImagePictures.Api.Tests;

public sealed class AvatarTestsOnFileSystem(PicturesApplication app) : AvatarTests(app), IClassFixture<PicturesApplication>;
public sealed class AvatarTestsOnS3(S3PicturesApplication app) : AvatarTests(app), IClassFixture<S3PicturesApplication>;

/// <summary>The public image routes, once per storage provider: the same headers, ETags and 304s.</summary>
public abstract class AvatarTests(PicturesApplication app)
{
    private static HttpRequestMessage Get(string url, string? accept = null, string? etag = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (accept is not null) request.Headers.Accept.ParseAdd(accept);
        if (etag is not null) request.Headers.IfNoneMatch.ParseAdd(etag);
        return request;
    }

    [Fact]
    public async Task AUserWithoutPicturesGetsTheDefaultImageOr404()
    {
        var client = app.CreateClient();
        var image = await client.SendAsync(Get("/avatars/nobody?size=64", "image/webp,*/*"));
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/webp", image.Content.Headers.ContentType?.MediaType);
        Assert.Equal(64, TestImages.Size(await image.Content.ReadAsByteArrayAsync()).W);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync("/avatars/nobody?default=404")).StatusCode);
    }

    [Fact]
    public async Task TheAvatarFollowsTheActivePictureWithCachingHeaders()
    {
        using var img = TestImages.Split(600, 600, TestImages.Red, TestImages.Red);
        var upload = await app.ClientFor("ava").PostAsync("/api/users/me/pictures?activate=true", TestUploads.Form(TestImages.Jpeg(img)));
        var picture = (await upload.Content.ReadFromJsonAsync<PictureJson>())!;
        var client = app.CreateClient();

        var webp = await client.SendAsync(Get("/avatars/ava?size=100", "image/avif,image/webp,*/*"));
        Assert.Equal(HttpStatusCode.OK, webp.StatusCode);
        Assert.Equal("image/webp", webp.Content.Headers.ContentType?.MediaType);
        Assert.Equal(128, TestImages.Size(await webp.Content.ReadAsByteArrayAsync()).W); // smallest configured size >= 100
        Assert.Equal("public, max-age=60", webp.Headers.CacheControl?.ToString());
        Assert.Contains("Accept", webp.Headers.Vary);
        Assert.Equal("nosniff", webp.Headers.GetValues("X-Content-Type-Options").Single());
        var etag = webp.Headers.ETag!;
        Assert.False(etag.IsWeak);

        var notModified = await client.SendAsync(Get("/avatars/ava?size=100", "image/webp", etag.Tag));
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        var jpeg = await client.SendAsync(Get("/avatars/ava?size=9999", "image/jpeg"));
        Assert.Equal("image/jpeg", jpeg.Content.Headers.ContentType?.MediaType);
        Assert.Equal(512, TestImages.Size(await jpeg.Content.ReadAsByteArrayAsync()).W); // larger than the largest: the largest
        TestImages.AssertColour(TestImages.Red, TestImages.Pixel(TestImages.Decode(await jpeg.Content.ReadAsByteArrayAsync()), 256, 256));

        // Changing the active picture changes the avatar at once (the in-memory map was invalidated).
        await app.ClientFor("ava").DeleteAsync($"/api/users/me/pictures/{picture.Id}");
        var fallback = await client.SendAsync(Get("/avatars/ava?size=100", "image/webp"));
        Assert.NotEqual(etag, fallback.Headers.ETag);
    }

    [Fact]
    public async Task VariantsAreImmutableAndOnlyConfiguredSizesExist()
    {
        var upload = await app.ClientFor("vic").PostAsync("/api/users/me/pictures", TestUploads.Form(TestUploads.DefaultPng()));
        var picture = (await upload.Content.ReadFromJsonAsync<PictureJson>())!;
        var client = app.CreateClient();
        var variant = await client.SendAsync(Get($"/pictures/{picture.Id}/32", "image/png"));
        Assert.Equal(HttpStatusCode.OK, variant.StatusCode);
        Assert.Equal("public, max-age=31536000, immutable", variant.Headers.CacheControl?.ToString());
        Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(Get($"/pictures/{picture.Id}/32", "image/png", variant.Headers.ETag!.Tag))).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await client.GetAsync($"/pictures/{picture.Id}/33")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/pictures/{Guid.NewGuid()}/32")).StatusCode);
    }
}

using System.Net;
using System.Net.Http.Json;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace ImagePictures.Api.Tests;

[Trait("Category", "Api")]
public sealed class AvatarTestsOnFileSystem(PicturesApplication app) : AvatarTests(app), IClassFixture<PicturesApplication>;
[Trait("Category", "Api")]
public sealed class AvatarTestsOnS3(S3PicturesApplication app) : AvatarTests(app), IClassFixture<S3PicturesApplication>;

/// <summary>The public image routes, once per storage provider: the same headers, ETags and 304s.</summary>
[Trait("Category", "Api")]
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

[Trait("Category", "Api")]
public class ImageRouteHttpTests(PicturesApplication app) : IClassFixture<PicturesApplication>
{
    private static HttpRequestMessage Request(HttpMethod method, string url, string? accept = null)
    {
        var request = new HttpRequestMessage(method, url);
        if (accept is not null) request.Headers.TryAddWithoutValidation("Accept", accept);
        return request;
    }

    private async Task<PictureJson> UploadAsync(string userId, bool activate)
    {
        using var img = TestImages.Split(400, 400, TestImages.Red, TestImages.Green);
        var upload = await app.ClientFor(userId).PostAsync($"/api/users/me/pictures?activate={activate}", TestUploads.Form(TestImages.Jpeg(img)));
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        return (await upload.Content.ReadFromJsonAsync<PictureJson>())!;
    }

    [Fact]
    public async Task HeadAnswersWithTheGetsHeadersAndNoBody()
    {
        var picture = await UploadAsync("head-user", activate: true);
        var client = app.CreateClient();
        foreach (var url in new[] { "/avatars/head-user?size=64", $"/pictures/{picture.Id}/64", "/avatars/head-nobody?size=32" })
        {
            var get = await client.SendAsync(Request(HttpMethod.Get, url, "image/webp"));
            var head = await client.SendAsync(Request(HttpMethod.Head, url, "image/webp"));
            Assert.Equal(HttpStatusCode.OK, get.StatusCode);
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            Assert.Empty(await head.Content.ReadAsByteArrayAsync());
            var body = await get.Content.ReadAsByteArrayAsync();
            Assert.NotEmpty(body);
            Assert.Equal(body.Length, head.Content.Headers.ContentLength);
            Assert.Equal(get.Content.Headers.ContentType, head.Content.Headers.ContentType);
            Assert.Equal(get.Headers.ETag, head.Headers.ETag);
            Assert.Equal(get.Headers.CacheControl, head.Headers.CacheControl);
            Assert.Equal(get.Headers.Vary, head.Headers.Vary);
            Assert.Equal("nosniff", head.Headers.GetValues("X-Content-Type-Options").Single());
        }
    }

    [Theory]
    [InlineData("image/webp;q=0, image/jpeg", "image/jpeg")]
    [InlineData("image/webp; q=0.0, */*", "image/jpeg")]
    [InlineData("image/webp;q=0.4, image/jpeg;q=0.9", "image/jpeg")]
    [InlineData("image/jpeg;q=0.5, image/webp", "image/webp")]
    [InlineData("image/avif,image/webp,image/apng,image/svg+xml,image/*,*/*;q=0.8", "image/webp")]
    [InlineData("image/webp", "image/webp")]
    [InlineData("*/*", "image/jpeg")]
    [InlineData("image/*;q=0.8, image/webp;q=0.9", "image/webp")]
    public async Task AcceptQValuesDecideBetweenWebPAndJpeg(string accept, string expected)
    {
        var picture = await UploadAsync($"q-{Guid.NewGuid():N}", activate: true);
        var client = app.CreateClient();
        var avatar = await client.SendAsync(Request(HttpMethod.Get, $"/avatars/{picture.UserId}?size=64", accept));
        var variant = await client.SendAsync(Request(HttpMethod.Get, $"/pictures/{picture.Id}/64", accept));
        var fallback = await client.SendAsync(Request(HttpMethod.Get, "/avatars/q-nobody?size=64", accept));
        Assert.Equal(expected, avatar.Content.Headers.ContentType?.MediaType);
        Assert.Equal(expected, variant.Content.Headers.ContentType?.MediaType);
        Assert.Equal(expected == "image/webp", fallback.Content.Headers.ContentType?.MediaType == "image/webp");
    }

    [Theory]
    [InlineData("/avatars/bad%20id", "Invalid user id")]
    [InlineData("/avatars/alice?size=0", "Invalid size")]
    [InlineData("/avatars/alice?size=abc", "Invalid size")]
    [InlineData("/avatars/alice?size=1&size=2", "Invalid size")]
    [InlineData("/avatars/alice?default=maybe", "Invalid default")]
    [InlineData("/pictures/not-a-uuid/64", "Invalid picture id")]
    [InlineData("/pictures/00000000-0000-0000-0000-000000000001/65", "Invalid size")]
    public async Task BadInputOnTheImageRoutesIsAProblem(string url, string title)
    {
        var response = await app.CreateClient().GetAsync(url);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<Microsoft.AspNetCore.Mvc.ProblemDetails>();
        Assert.Equal(title, problem!.Title);
        Assert.False(string.IsNullOrWhiteSpace(problem.Detail));
    }

    [Fact]
    public async Task VariantLivenessIsCachedAndFollowsTrashRestoreAndAccountDeletion()
    {
        var picture = await UploadAsync("live-user", activate: false);
        // The relay applies the upload's event to the cache (an invalidation): wait for it before counting lookups.
        await app.RelayCaughtUpAsync();
        var client = app.CreateClient();
        var url = $"/pictures/{picture.Id}/64";
        var pictures = app.Services.GetRequiredService<Avatars.LivePictureCache>();

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(url)).StatusCode);
        var queries = pictures.Queries;
        for (var i = 0; i < 20; i++) Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(url)).StatusCode);
        Assert.Equal(queries, pictures.Queries); // answered from memory

        var owner = app.ClientFor("live-user");
        Assert.Equal(HttpStatusCode.OK, (await owner.DeleteAsync($"/api/users/me/pictures/{picture.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(url)).StatusCode); // trashed: at once
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(url)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await owner.PostAsync($"/api/users/me/trash/{picture.Id}/restore", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(url)).StatusCode); // restored: at once

        Assert.Equal(HttpStatusCode.OK, (await owner.DeleteAsync("/api/users/me")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync(url)).StatusCode); // account deleted
    }

    [Fact]
    public async Task UsersWithoutAPictureCostNoLookupOnceTheIndexIsLoaded()
    {
        var avatars = app.Services.GetRequiredService<Avatars.ActiveAvatarCache>();
        await Eventually(() => avatars.IndexComplete, "the avatar index loaded");
        var client = app.CreateClient();
        var queries = avatars.Queries;
        for (var i = 0; i < 200; i++)
        {
            var response = await client.GetAsync($"/avatars/flood-{Guid.NewGuid():N}?size=32");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }
        Assert.Equal(queries, avatars.Queries);

        // A user who gets a picture is widened into the index by the change itself.
        var picture = await UploadAsync("index-newcomer", activate: true);
        var avatar = await client.SendAsync(Request(HttpMethod.Get, "/avatars/index-newcomer?size=64", "image/webp"));
        Assert.Equal(HttpStatusCode.OK, avatar.StatusCode);
        Assert.Contains(picture.ContentHash[..16], avatar.Headers.ETag!.Tag);
    }
}

/// <summary>A tiny avatar cache without the index, so that a flood of random ids meets the cache itself.</summary>
public sealed class TinyAvatarCacheApplication : PicturesApplication
{
    public TinyAvatarCacheApplication() => With("Avatars:CacheEntries", "50").With("Avatars:IndexLimit", "0");
}

[Trait("Category", "Api")]
public class AvatarCacheFloodTests(TinyAvatarCacheApplication app) : IClassFixture<TinyAvatarCacheApplication>
{
    [Fact]
    public async Task ARandomIdFloodDoesNotEvictTheActiveAvatarAndUnknownIdsAreCached()
    {
        using var img = TestImages.Split(300, 300, TestImages.Red, TestImages.Red);
        var upload = await app.ClientFor("popular").PostAsync("/api/users/me/pictures?activate=true", TestUploads.Form(TestImages.Jpeg(img)));
        Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        // The upload's events reach the cache through the relay, and each one, as a change, keeps a lookup
        // under way at that moment out of the cache: wait for them, so that none lands in the counting below.
        await app.RelayCaughtUpAsync();
        var avatars = app.Services.GetRequiredService<Avatars.ActiveAvatarCache>();
        Assert.False(avatars.IndexComplete); // over Avatars:IndexLimit: the cache alone answers
        var client = app.CreateClient();
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/avatars/popular?size=64")).StatusCode);

        // Unknown ids are cached as "no picture": asking again costs nothing.
        var before = avatars.Queries;
        await client.GetAsync("/avatars/ghost?size=64");
        await client.GetAsync("/avatars/ghost?size=64");
        Assert.Equal(before + 1, avatars.Queries);

        // 10x the cache's size in ids seen once each, interleaved with the popular user's requests.
        for (var i = 0; i < 500; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/avatars/random-{i}?size=64")).StatusCode);
            if (i % 50 == 0) await client.GetAsync("/avatars/popular?size=64");
        }
        var queries = avatars.Queries;
        var popular = await client.GetAsync("/avatars/popular?size=64&default=404");
        Assert.Equal(HttpStatusCode.OK, popular.StatusCode);
        Assert.Equal(queries, avatars.Queries); // still in memory
    }
}

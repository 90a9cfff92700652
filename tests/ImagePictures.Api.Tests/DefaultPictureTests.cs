using System.Net;
using System.Net.Http.Json;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Tests.Infrastructure;

namespace ImagePictures.Api.Tests;

[Trait("Category", "Api")]
public sealed class DefaultPictureTestsOnFileSystem(PicturesApplication app) : DefaultPictureTests(app), IClassFixture<PicturesApplication>;
[Trait("Category", "Api")]
public sealed class DefaultPictureTestsOnS3(S3PicturesApplication app) : DefaultPictureTests(app), IClassFixture<S3PicturesApplication>;

/// <summary>Sign-up's default picture and account deletion, once per storage provider.</summary>
[Trait("Category", "Api")]
public abstract class DefaultPictureTests(PicturesApplication app)
{
    [Fact]
    public async Task FirstCallCreatesAnActiveDefaultPictureAndLaterCallsReturnTheSameOne()
    {
        var signup = app.Provisioner();
        var first = await signup.PostAsync("/api/users/dora/default-picture", null);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var created = await first.Content.ReadFromJsonAsync<PictureJson>();
        Assert.True(created!.IsDefault);
        Assert.True(created.IsActive);
        Assert.Equal(512, created.Width);
        Assert.Contains("64.webp", await app.Stored.PictureFilesAsync("dora", created.Id));

        var second = await signup.PostAsync("/api/users/dora/default-picture", null);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(created.Id, (await second.Content.ReadFromJsonAsync<PictureJson>())!.Id);
    }

    [Fact]
    public async Task TenConcurrentCallsCreateExactlyOnePicture()
    {
        var signup = app.Provisioner();
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => signup.PostAsync("/api/users/concurrent-carl/default-picture", null)));
        Assert.Equal(1, responses.Count(r => r.StatusCode == HttpStatusCode.Created));
        Assert.Equal(9, responses.Count(r => r.StatusCode == HttpStatusCode.OK));
        var ids = await Task.WhenAll(responses.Select(async r => (await r.Content.ReadFromJsonAsync<PictureJson>())!.Id));
        Assert.Single(ids.Distinct());

        var list = await app.ClientFor("concurrent-carl").GetFromJsonAsync<PictureJson[]>("/api/users/me/pictures");
        Assert.Single(list!);
        // The losers' folders were removed: only the one picture's folder is left.
        Assert.Equal(new[] { ids[0].ToString() }, await app.Stored.UserEntriesAsync("concurrent-carl"));
    }

    [Fact]
    public async Task TheUserThemselvesMayCreateTheirDefaultButNotSomeoneElses()
    {
        Assert.Equal(HttpStatusCode.Created, (await app.ClientFor("erin").PostAsync("/api/users/me/default-picture", null)).StatusCode);
        var forbidden = await app.ClientFor("erin").PostAsync("/api/users/frank/default-picture", null);
        Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
        Assert.Equal("application/problem+json", forbidden.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task DeletingAUserRemovesEveryPictureAndTheFolder()
    {
        await app.Provisioner().PostAsync("/api/users/gone-gina/default-picture", null);
        var upload = await app.ClientFor("gone-gina").PostAsync("/api/users/me/pictures", TestUploads.Form(TestUploads.DefaultPng()));
        var trashed = (await upload.Content.ReadFromJsonAsync<PictureJson>())!;
        Assert.Equal(HttpStatusCode.OK, (await app.ClientFor("gone-gina").DeleteAsync($"/api/users/me/pictures/{trashed.Id}")).StatusCode);
        Assert.Equal(2, (await app.Stored.UserEntriesAsync("gone-gina")).Length);

        var response = await app.Provisioner().DeleteAsync("/api/users/gone-gina");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, (await response.Content.ReadFromJsonAsync<Users.UserEndpoints.DeletedCount>())!.Deleted); // live and trashed
        Assert.Empty(await app.Stored.UserEntriesAsync("gone-gina"));
        Assert.Empty((await app.ClientFor("gone-gina").GetFromJsonAsync<PictureJson[]>("/api/users/me/pictures"))!);
        Assert.Equal(HttpStatusCode.NotFound, (await app.ClientFor("gone-gina").GetAsync("/api/users/me/active-picture")).StatusCode);
    }

    [Fact]
    public async Task AnotherUserCannotDeleteAUser()
    {
        await app.Provisioner().PostAsync("/api/users/kept-kim/default-picture", null);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.ClientFor("mallory").DeleteAsync("/api/users/kept-kim")).StatusCode);
        Assert.NotEmpty(await app.Stored.UserEntriesAsync("kept-kim"));
    }
}

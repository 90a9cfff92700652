using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ImagePictures.Api.Tests.Infrastructure;

namespace ImagePictures.Api.Tests;

/// <summary>Storage:Provider and the S3 settings: a misconfiguration stops the start naming the setting; a store that is down is 503, not a failed start.</summary>
[Trait("Category", "Api")]
public class StorageSettingsTests
{
    private static async Task<string> StartFailure(params (string Key, string? Value)[] settings)
    {
        await using var app = new PicturesApplication();
        foreach (var (key, value) in settings) app.With(key, value);
        var error = await Assert.ThrowsAnyAsync<Exception>(() => app.InitializeAsync());
        return error.ToString();
    }

    private static (string, string?)[] S3(string bucket, params (string Key, string? Value)[] overrides)
    {
        var settings = TestGateway.Instance.Settings(bucket).ToDictionary(kv => kv.Key, kv => (string?)kv.Value);
        foreach (var (key, value) in overrides) settings[key] = value;
        return settings.Select(kv => (kv.Key, kv.Value)).ToArray();
    }

    [Fact]
    public async Task AnUnknownProviderStopsTheStartNamingTheSetting() =>
        Assert.Contains("Storage:Provider 'Dropbox' is not known", await StartFailure(("Storage:Provider", "Dropbox")));

    [Fact]
    public async Task S3WithoutABucketStopsTheStartNamingTheSetting() =>
        Assert.Contains("Storage:S3:Bucket is required", await StartFailure(("Storage:Provider", "S3"), ("Storage:S3:ServiceUrl", "http://127.0.0.1:1")));

    [Fact]
    public async Task WrongKeysStopTheStartNamingTheSettings()
    {
        var bucket = await TestGateway.Instance.CreateBucketAsync("ip-keys");
        var error = await StartFailure(S3(bucket, ("Storage:S3:SecretKey", "not-the-secret")));
        Assert.Contains("Storage:S3:AccessKey / Storage:S3:SecretKey", error);
    }

    [Fact]
    public async Task ABucketThatDoesNotExistStopsTheStartNamingTheSetting()
    {
        var error = await StartFailure(S3("no-such-bucket-here"));
        Assert.Contains("Storage:S3:Bucket: the bucket 'no-such-bucket-here' does not exist", error);
    }

    [Fact]
    public async Task AnUnreachableStoreStartsButIsNotReadyAndWritesAnswer503WithRetryAfter()
    {
        await using var app = new PicturesApplication();
        foreach (var (key, value) in S3("unreachable", ("Storage:S3:ServiceUrl", "http://127.0.0.1:1"))) app.With(key, value);
        await app.InitializeAsync();

        var ready = await app.CreateClient().GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("storage", (await ready.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString());

        var upload = await app.ClientFor("nowhere-nina").PostAsync("/api/users/me/pictures", TestUploads.Form(TestUploads.DefaultPng()));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, upload.StatusCode);
        Assert.NotNull(upload.Headers.RetryAfter);
        Assert.Equal("application/problem+json", upload.Content.Headers.ContentType?.MediaType);
        Assert.Empty((await app.ClientFor("nowhere-nina").GetFromJsonAsync<JsonElement[]>("/api/users/me/pictures"))!); // no row without its files

        var staged = await app.ClientFor("nowhere-nina").PostAsync("/api/uploads", TestUploads.Form(TestUploads.DefaultPng()));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, staged.StatusCode);
        // The default image is prepared from the repository's file, whatever the store: still served.
        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().GetAsync("/avatars/nowhere-nina")).StatusCode);
        await ((IAsyncLifetime)app).DisposeAsync();
    }
}

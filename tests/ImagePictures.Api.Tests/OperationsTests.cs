using Microsoft.AspNetCore.Hosting;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ImagePictures.Api.Tests.Infrastructure;

namespace ImagePictures.Api.Tests;

[Trait("Category", "Api")]
public class OperationsTests(PicturesApplication app) : IClassFixture<PicturesApplication>
{
    [Fact]
    public async Task LiveAndReadyAnswer200WhenEverythingWorks()
    {
        var client = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        var ready = await client.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = await ready.Content.ReadAsStringAsync();
        Assert.Contains("postgresql", body);
        Assert.Contains("libvips", body);
    }

    [Fact]
    public async Task OpenApiDocumentListsTheApiRoutes()
    {
        var doc = await app.CreateClient().GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = doc.GetProperty("paths").EnumerateObject().Select(p => p.Name).ToList();
        Assert.Contains("/api/users/{userId}/pictures", paths);
        Assert.Contains("/api/users/{userId}/active-picture", paths);
        Assert.Contains("/api/users/{userId}/default-picture", paths);
    }

    [Fact]
    public async Task DevTokenIssuesATokenTheServiceAccepts()
    {
        var client = app.CreateClient();
        var response = await client.PostAsJsonAsync("/dev/token", new { userId = "alice", roles = new[] { "admin" } });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var token = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString();
        var pictures = await app.ClientWithToken(token).GetAsync("/api/users/bob/pictures");
        Assert.Equal(HttpStatusCode.OK, pictures.StatusCode); // admin may read bob's
    }

    [Fact]
    public async Task DevTokenRefusesABadUserId()
    {
        var response = await app.CreateClient().PostAsJsonAsync("/dev/token", new { userId = "../etc" });
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
    }
}

[Trait("Category", "Api")]
public class ProductionOperationsTests : IAsyncLifetime
{
    private readonly ProductionApplication _app = new();
    public Task InitializeAsync() => _app.InitializeAsync();
    public Task DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    [Fact]
    public async Task DevTokenIs404OutsideDevelopment()
    {
        var response = await _app.CreateClient().PostAsJsonAsync("/dev/token", new { userId = "alice" });
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    private sealed class ProductionApplication : PicturesApplication
    {
        protected override void ConfigureWebHost(Microsoft.AspNetCore.Hosting.IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseEnvironment("Production");
            // Production has no development key; a real deployment sets Auth:Authority instead.
            builder.UseSetting("Auth:SigningKey", "a-production-test-key-that-is-long-enough-0123456789abcdef");
            builder.UseSetting("Auth:AllowSymmetricKey", "true");
        }
    }
}

[Trait("Category", "Api")]
public class UnknownRouteTests(PicturesApplication app) : IClassFixture<PicturesApplication>
{
    [Fact]
    public async Task AnUnknownRouteIsAProblemDetails404()
    {
        var response = await app.CreateClient().GetAsync("/no/such/route");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }
}

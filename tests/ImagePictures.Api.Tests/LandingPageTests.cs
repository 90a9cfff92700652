using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using ImagePictures.Api.Operations;
using ImagePictures.Api.Tests.Infrastructure;

namespace ImagePictures.Api.Tests;

/// <summary>GET / welcomes a newcomer: what the service is, its version, where to go, and the live state of its dependencies.</summary>
[Trait("Category", "Api")]
public class LandingPageTests(PicturesApplication app) : IClassFixture<PicturesApplication>
{
    [Fact]
    public async Task TheHtmlPageLinksEverywhereShowsTheVersionAndTheDependenciesAndCarriesTheSecurityHeaders()
    {
        var response = await app.CreateClient().GetAsync("/");
        var html = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(SecurityHeaders.ContentSecurityPolicy, response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.Equal("SAMEORIGIN", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Contains(LandingPage.Version, html);
        foreach (var href in new[] { "/docs", "/sample/", "/admin", "/hangfire", "/health/ready", "/openapi/v1.json" })
            Assert.Contains($"href=\"{href}\"", html);
        Assert.Matches("database</th><td class=\"ok\">ok", html);
        Assert.Matches("storage</th><td class=\"ok\">ok", html);
        Assert.Matches("broker</th><td class=\"off\">not configured", html);
    }

    [Fact]
    public async Task AcceptJsonGetsTheSameAsAnIndexOfLinksWhoseTargetsAnswer()
    {
        var client = app.CreateClient();
        var request = new HttpRequestMessage(HttpMethod.Get, "/");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        var response = await client.SendAsync(request);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var index = await response.Content.ReadFromJsonAsync<JsonElement>();

        Assert.Equal("ImagePictures", index.GetProperty("name").GetString());
        Assert.Equal(LandingPage.Version, index.GetProperty("version").GetString());
        Assert.Equal("ok", index.GetProperty("dependencies").GetProperty("database").GetProperty("status").GetString());
        Assert.Equal("ok", index.GetProperty("dependencies").GetProperty("storage").GetProperty("status").GetString());
        Assert.Equal("not configured", index.GetProperty("dependencies").GetProperty("broker").GetProperty("status").GetString());
        var links = index.GetProperty("links");
        foreach (var name in new[] { "docs", "openapi", "sample", "health" })
        {
            var href = links.GetProperty(name).GetProperty("href").GetString()!;
            Assert.True((await client.GetAsync(href)).IsSuccessStatusCode, $"{name}: {href} does not answer");
        }
        Assert.Equal("/admin", links.GetProperty("admin").GetProperty("href").GetString());
        Assert.Equal("/hangfire", links.GetProperty("hangfire").GetProperty("href").GetString());
    }
}

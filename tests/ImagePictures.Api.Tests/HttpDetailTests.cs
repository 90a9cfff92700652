using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using ImagePictures.Api.Operations;
using ImagePictures.Api.Tests.Browser;
using ImagePictures.Api.Tests.Infrastructure;
using ImagePictures.Api.Tests.Realtime;

namespace ImagePictures.Api.Tests;

/// <summary>
/// Over a real Kestrel socket: security headers on every HTML page, no Server header, the sample
/// serving only its own files, and one problem-details shape for our errors and the framework's.
/// </summary>
[Trait("Category", "Api")]
public class HttpDetailTests(BrowserApplication app) : IClassFixture<BrowserApplication>
{
    private HttpClient Client(string? token = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri(app.BaseUrl) };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) || response.Content.Headers.TryGetValues(name, out values) ? string.Join(", ", values) : null;

    [Theory]
    [InlineData("/admin/login", false)]
    [InlineData("/admin", true)]
    [InlineData("/sample/", false)]
    [InlineData("/sample/index.html", false)]
    public async Task EveryHtmlPageForbidsFramingByOthersAndSendsNoReferrer(string path, bool asAdmin)
    {
        using var client = Client(asAdmin ? app.Token("root-admin", roles: ["admin"]) : null);
        var response = await client.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/html", response.Content.Headers.ContentType?.MediaType);
        var csp = Header(response, "Content-Security-Policy");
        Assert.NotNull(csp);
        Assert.Contains("frame-ancestors 'self'", csp);
        Assert.Equal("no-referrer", Header(response, "Referrer-Policy"));
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("SAMEORIGIN", Header(response, "X-Frame-Options"));
    }

    [Fact]
    public async Task AnHtmlErrorPageGetsTheHeadersAndNonHtmlGetsNoCsp()
    {
        using var client = Client();
        var denied = await client.PostAsync("/admin/login", new FormUrlEncodedContent([new("token", "not-a-jwt")]));
        Assert.Equal(HttpStatusCode.Unauthorized, denied.StatusCode);
        Assert.Contains("frame-ancestors 'self'", Header(denied, "Content-Security-Policy"));

        var json = await client.GetAsync("/health/live");
        Assert.Null(Header(json, "Content-Security-Policy"));
        Assert.Equal("nosniff", Header(json, "X-Content-Type-Options"));
    }

    [Theory]
    [InlineData("/health/live")]
    [InlineData("/admin/login")]
    [InlineData("/no/such/route")]
    public async Task NoResponseNamesTheServer(string path)
    {
        using var client = Client();
        var response = await client.GetAsync(path);
        Assert.Empty(response.Headers.Server);
        Assert.Null(Header(response, "Server"));
    }

    [Theory]
    [InlineData("/sample//package.json")]
    [InlineData("/sample//package-lock.json")]
    [InlineData("/sample///package.json")]
    [InlineData("/sample//node_modules/@microsoft/signalr/package.json")]
    [InlineData("/sample/node_modules/@microsoft/signalr/package.json")]
    [InlineData("/sample/%2Fpackage.json")]
    [InlineData("/sample/PACKAGE.JSON")]
    [InlineData("/sample/package.json")]
    [InlineData("/sample//app.js")]
    public async Task TheSampleServesOnlyItsOwnFilesHoweverThePathIsSpelt(string path)
    {
        using var client = Client();
        var response = await client.GetAsync(path);
        Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path}: {(int)response.StatusCode}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
    }

    [Theory]
    [InlineData("/sample/")]
    [InlineData("/sample/app.js")]
    [InlineData("/sample/style.css")]
    [InlineData("/sample/index.html")]
    public async Task TheSamplesOwnFilesAreServed(string path)
    {
        using var client = Client();
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync(path)).StatusCode);
    }

    private static async Task<string[]> ProblemFields(HttpResponseMessage response, HttpStatusCode expected)
    {
        Assert.Equal(expected, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.False(string.IsNullOrWhiteSpace(json.GetProperty("detail").GetString()));
        Assert.Equal((int)expected, json.GetProperty("status").GetInt32());
        return json.EnumerateObject().Select(p => p.Name).Order().ToArray();
    }

    [Fact]
    public async Task TheFrameworks404And405And415HaveTheShapeOfOurOwnProblems()
    {
        using var client = Client(app.Token("shape-sam"));
        var ours = await ProblemFields(await client.GetAsync($"/api/users/shape-sam/pictures/{Guid.NewGuid()}"), HttpStatusCode.NotFound);
        Assert.Equal(["detail", "status", "title"], ours);

        Assert.Equal(ours, await ProblemFields(await client.GetAsync("/no/such/route"), HttpStatusCode.NotFound));
        var wrongMethod = await client.PutAsync("/api/users/shape-sam/pictures", null);
        Assert.Contains("GET", wrongMethod.Content.Headers.Allow); // the 405 detail points at it
        Assert.Equal(ours, await ProblemFields(wrongMethod, HttpStatusCode.MethodNotAllowed));
        var textBody = new StringContent("{\"title\":\"x\"}", Encoding.UTF8, "text/plain");
        Assert.Equal(ours, await ProblemFields(await client.PatchAsync($"/api/users/shape-sam/pictures/{Guid.NewGuid()}", textBody), HttpStatusCode.UnsupportedMediaType));
    }
}

/// <summary>The request log writes the status that was sent, also when the exception handler answered.</summary>
[Trait("Category", "Api")]
public class RequestLogStatusTests(LogCapturingApplication app) : IClassFixture<LogCapturingApplication>
{
    [Fact]
    public async Task ARequestAnswered503ByTheExceptionHandlerIsLoggedAs503()
    {
        const string user = "log-stella";
        // A file where the user's folder should be: publishing the picture fails, a storage fault (503).
        Directory.CreateDirectory(Path.Combine(app.StorageRoot, "users"));
        await File.WriteAllTextAsync(app.UserFolder(user), "in the way");
        using var image = TestImages.Split(200, 100, TestImages.Red, TestImages.Blue);
        var response = await app.ClientFor(user).PostAsync($"/api/users/{user}/pictures", TestUploads.Form(TestImages.Jpeg(image)));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.NotNull(response.Headers.RetryAfter);

        var path = $"/api/users/{user}/pictures";
        (string Category, Microsoft.Extensions.Logging.LogLevel Level, string Text) line = default;
        await Eventually(() => (line = app.Logs.Entries.LastOrDefault(e => e.Category == "ImagePictures.Requests" && e.Text.Contains(path))).Text is not null,
            "the request line of the failed upload"); // written once the response has completed
        Assert.Contains($"POST {path} 503", line.Text);
        // Nothing was left behind by the failed upload.
        Assert.Empty(Directory.EnumerateFileSystemEntries(Path.Combine(app.StorageRoot, "temp")));
    }
}

using System.Net;
using System.Net.Sockets;
using ImagePictures.Api.Tests.Infrastructure;

namespace ImagePictures.Api.Tests;

/// <summary>/metrics answers at exactly that path; with Metrics:Port only on that port, and the main listener says 404.</summary>
[Trait("Category", "Api")]
public class MetricsRouteTests(PicturesApplication app) : IClassFixture<PicturesApplication>
{
    public static readonly string[] OtherSpellings = ["/METRICS", "/Metrics", "/metrics/", "/metrics/.", "/METRICS/", "/metrics.", "/metrics;x", "/metrics%2F"];

    [Fact]
    public async Task MetricsAnswerAtTheirExactPathOnly()
    {
        var client = app.CreateClient();
        var exact = await client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, exact.StatusCode);
        Assert.Contains("# TYPE", await exact.Content.ReadAsStringAsync());
        foreach (var path in OtherSpellings)
        {
            var response = await client.GetAsync(path);
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{path} answered {(int)response.StatusCode}");
            Assert.DoesNotContain("# TYPE", await response.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task WithMetricsPortMetricsAnswerOnlyOnThatPort()
    {
        var port = FreePort();
        await using var separate = new PicturesApplication().With("Metrics:Port", port.ToString());
        await separate.InitializeAsync();

        var main = await separate.CreateClient().GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.NotFound, main.StatusCode);
        Assert.Equal("application/problem+json", main.Content.Headers.ContentType?.MediaType);

        using var scraper = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        var metrics = await scraper.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.StartsWith("text/plain", metrics.Content.Headers.ContentType?.MediaType);
        Assert.Contains("# TYPE", await metrics.Content.ReadAsStringAsync());
        // Only /metrics there: neither other spellings nor the API.
        foreach (var path in OtherSpellings.Append("/api/users/someone/pictures").Append("/avatars/someone").Append("/"))
            Assert.True((await scraper.GetAsync(path)).StatusCode == HttpStatusCode.NotFound, $"{path} on the metrics port was not 404");
        await ((IAsyncLifetime)separate).DisposeAsync();
    }

    [Fact]
    public async Task AMetricsPortOutOfRangeStopsTheStart()
    {
        await using var wrong = new PicturesApplication().With("Metrics:Port", "70000");
        var e = await Assert.ThrowsAnyAsync<Exception>(wrong.InitializeAsync);
        Assert.Contains("Metrics:Port", e.ToString());
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using System.Net;
using System.Text.RegularExpressions;
using ImagePictures.Api.Tests.Infrastructure;
using static ImagePictures.Api.Tests.Realtime.RealtimeKit;

namespace ImagePictures.Api.Tests;

/// <summary>
/// /metrics after real traffic: the contract's instruments with their labels, ASP.NET Core's and Npgsql's
/// beside them, and no token anywhere. It runs among the other hosts of the test process on purpose: each
/// host has meters of its own, and another host's disposal must not stop this one's instruments.
/// </summary>
[Trait("Category", "Api")]
public class MetricsTests(PicturesApplication app) : IClassFixture<PicturesApplication>
{
    /// <summary>
    /// /metrics once it shows a series of each (name, label): the exporter answers a scrape from a cache
    /// for 300 ms, so a scrape right after another one may not show the latest requests yet.
    /// </summary>
    private static async Task<string> ScrapeAsync(HttpClient client, params (string Name, string Label)[] expected)
    {
        var metrics = "";
        await Eventually(async () =>
        {
            var response = await client.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
            metrics = await response.Content.ReadAsStringAsync();
            return expected.All(e => Series(e.Name, e.Label).IsMatch(metrics));
        }, "/metrics shows " + string.Join(", ", expected));
        return metrics;
    }

    private static Regex Series(string name, string label) =>
        new($@"^{Regex.Escape(name)}\{{[^}}]*{Regex.Escape(label)}[^}}]*\}} (\S+)", RegexOptions.Multiline);

    private static long Value(string metrics, string name, string label)
    {
        var match = Series(name, label).Match(metrics);
        Assert.True(match.Success, $"no {name} with {label} in:\n{string.Join('\n', metrics.Split('\n').Where(l => l.StartsWith("imagepictures")))}");
        return (long)double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task MetricsShowUploadsAvatarsAndHubConnectionsWithoutTokens()
    {
        var token = app.Token("metrics-user");
        await UploadAsync(app, "metrics-user", activate: true);
        var refused = await app.ClientFor("metrics-user").PostAsync("/api/users/metrics-user/pictures",
            TestUploads.Form("<svg xmlns='http://www.w3.org/2000/svg'/>"u8.ToArray(), "x.svg"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, refused.StatusCode);
        var anonymous = app.CreateClient();
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/avatars/metrics-user?size=64")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/avatars/metrics-nobody?default=404")).StatusCode);
        await using var hub = await ConnectAsync(app, "metrics-user"); // the token rides in ?access_token=
        await hub.Watch("metrics-other");

        var metrics = await ScrapeAsync(anonymous, ("imagepictures_uploads_total", "result=\"rejected\""),
            ("imagepictures_avatar_requests_total", "outcome=\"not_found\""), ("imagepictures_hub_events_total", "type=\"PictureUploaded\""));

        Assert.True(Value(metrics, "imagepictures_uploads_total", "result=\"created\"") >= 1);
        Assert.True(Value(metrics, "imagepictures_uploads_total", "result=\"rejected\"") >= 1);
        Assert.True(Value(metrics, "imagepictures_image_rejections_total", "reason=\"unsupported\"") >= 1);
        Assert.True(Value(metrics, "imagepictures_normalize_duration_seconds_count", "otel_scope_name=\"ImagePictures\"") >= 1);
        Assert.True(Value(metrics, "imagepictures_avatar_requests_total", "outcome=\"picture\"") >= 1);
        Assert.True(Value(metrics, "imagepictures_avatar_requests_total", "outcome=\"not_found\"") >= 1);
        Assert.True(Value(metrics, "imagepictures_avatar_cache_lookups_total", "result=\"") >= 1);
        Value(metrics, "imagepictures_hub_connections", "kind=\"user\""); // an up-down counter: present while connected
        Assert.True(Value(metrics, "imagepictures_hub_events_total", "type=\"PictureUploaded\"") >= 1);
        Assert.Contains("aspnetcore_routing_match_attempts_total", metrics); // ASP.NET Core's, from this host's own meters
        Assert.Contains("http_server_request_duration_seconds_count", metrics);
        Assert.Contains("db_client_connection_pool_name=\"pictures\"", metrics); // Npgsql's, labelled by name, not by connection string
        Assert.DoesNotContain("Password", metrics, StringComparison.OrdinalIgnoreCase);

        Assert.DoesNotContain(token, metrics);
        Assert.DoesNotContain(token.Split('.')[2], metrics);
        Assert.DoesNotContain("eyJ", metrics);
        Assert.DoesNotContain("access_token", metrics);
    }

    [Fact]
    public async Task TracesOfHubConnectionsCarryNoToken()
    {
        var token = app.Token("trace-user");
        var tags = new System.Collections.Concurrent.ConcurrentBag<string>();
        using var listener = new System.Diagnostics.ActivityListener
        {
            ShouldListenTo = source => source.Name.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal),
            Sample = (ref System.Diagnostics.ActivityCreationOptions<System.Diagnostics.ActivityContext> _) => System.Diagnostics.ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                tags.Add(a.DisplayName);
                foreach (var tag in a.TagObjects) tags.Add($"{tag.Key}={tag.Value}");
            },
        };
        System.Diagnostics.ActivitySource.AddActivityListener(listener);
        await using (var hub = await ConnectAsync(app, "trace-user"))
            await hub.Unwatch();
        await app.ClientFor("trace-user").GetAsync("/api/users/trace-user/pictures?access_token=" + token);

        Assert.Contains(tags, t => t.Contains("/hubs/pictures"));
        Assert.DoesNotContain(tags, t => t.Contains(token.Split('.')[2]) || t.Contains("eyJ") || t.Contains("access_token"));
    }

    [Fact]
    public async Task AnAvatarAnsweredWith304CountsAsNotModified()
    {
        await UploadAsync(app, "metrics-etag", activate: true);
        var client = app.CreateClient();
        var first = await client.GetAsync("/avatars/metrics-etag");
        var again = new HttpRequestMessage(HttpMethod.Get, "/avatars/metrics-etag");
        again.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        Assert.Equal(HttpStatusCode.NotModified, (await client.SendAsync(again)).StatusCode);
        var metrics = await ScrapeAsync(client, ("imagepictures_avatar_requests_total", "outcome=\"not_modified\""));
        Assert.True(Value(metrics, "imagepictures_avatar_requests_total", "outcome=\"not_modified\"") >= 1);
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using ImagePictures.Faults.Tests.Infrastructure;

namespace ImagePictures.Faults.Tests;

/// <summary>
/// Promise: every request gets a clear answer. PostgreSQL is stopped for 10 seconds under a light
/// load: every request is answered within 10 s with 2xx or 503 + Retry-After + problem details,
/// /health/ready is 503 meanwhile, and the service recovers by itself once PostgreSQL is back.
/// </summary>
public sealed class DatabaseOutageTests(ITestOutputHelper output) : ChildServiceTest
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(10);
    private sealed record Sample(string Op, double StartedAt, double Seconds, int Status, string? RetryAfter, string? ContentType, string? Error, string? Body);

    [Fact]
    public async Task EveryRequestIsAnsweredAndTheServiceRecoversWithoutRestart()
    {
        Child = await ServiceProcess.StartAsync(ServiceProcess.Settings(Cluster.ConnectionString, StorageRoot,
            new Dictionary<string, string> { ["Pictures__MaxPicturesPerUser"] = "100000" }));
        var jpegs = Service.SmallJpegs(4, 11);
        var clock = Stopwatch.StartNew();
        var samples = new ConcurrentQueue<Sample>();
        var stop = new CancellationTokenSource();

        var uploaded = new ConcurrentDictionary<string, bool>();

        async Task<int> Call(HttpClient client, string op, Func<HttpClient, Task<HttpResponseMessage>> send)
        {
            var started = clock.Elapsed.TotalSeconds;
            try
            {
                using var response = await send(client);
                var body = (int)response.StatusCode >= 400 ? await response.Content.ReadAsStringAsync() : null;
                samples.Enqueue(new Sample(op, started, clock.Elapsed.TotalSeconds - started, (int)response.StatusCode,
                    response.Headers.RetryAfter?.ToString(), response.Content.Headers.ContentType?.MediaType, null, body));
                return (int)response.StatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                samples.Enqueue(new Sample(op, started, clock.Elapsed.TotalSeconds - started, 0, null, null, e.GetType().Name + ": " + e.Message, null));
                return 0;
            }
        }

        async Task UserLoad(string user, int index)
        {
            using var client = Child.Client(Tokens.For(user), timeout: TimeSpan.FromSeconds(10));
            var i = 0;
            while (!stop.IsCancellationRequested)
            {
                if (await Call(client, "upload", c => c.PostAsync($"/api/users/{user}/pictures?activate=true", Service.Form(jpegs[(i + index) % jpegs.Length]))) == 201)
                    uploaded[user] = true;
                await Call(client, "list", c => c.GetAsync($"/api/users/{user}/pictures"));
                await Call(client, "avatar", c => c.GetAsync($"/avatars/{user}?size=64"));
                await Call(client, "active", c => c.GetAsync($"/api/users/{user}/active-picture"));
                i++;
                await Task.Delay(150);
            }
        }

        async Task ReadyProbe()
        {
            using var client = Child.Client(timeout: TimeSpan.FromSeconds(10));
            while (!stop.IsCancellationRequested)
            {
                await Call(client, "ready", c => c.GetAsync("/health/ready"));
                await Task.Delay(250);
            }
        }

        var load = new[] { UserLoad("outage-a", 0), UserLoad("outage-b", 1), ReadyProbe() };
        await Task.Delay(3000);
        // Both users have an active picture before the outage (on a busy machine the first uploads of a
        // just-started service can take longer than 3 s), so "no active picture" (404) is never right here.
        for (var wait = Stopwatch.StartNew(); uploaded.Count < 2 && wait.Elapsed < TimeSpan.FromSeconds(30);)
            await Task.Delay(100);
        var stopBegin = clock.Elapsed.TotalSeconds;
        Cluster.Stop();
        var stopEnd = clock.Elapsed.TotalSeconds;
        await Task.Delay(Outage);
        var startBegin = clock.Elapsed.TotalSeconds;
        Cluster.Start();
        var startEnd = clock.Elapsed.TotalSeconds;

        // Let the load run until uploads are answered 201 again (at most 15 s), then a little longer.
        double? recoveredAt = null;
        while (clock.Elapsed.TotalSeconds < startEnd + 15)
        {
            recoveredAt = samples.Where(s => s.Op == "upload" && s.Status == 201 && s.StartedAt > startEnd).Select(s => (double?)s.StartedAt + s.Seconds).Min();
            if (recoveredAt is not null) break;
            await Task.Delay(200);
        }
        await Task.Delay(3000);
        var tailFrom = clock.Elapsed.TotalSeconds - 2;
        await stop.CancelAsync();
        await Task.WhenAll(load);

        var all = samples.ToList();
        var counts = all.GroupBy(s => $"{s.Op}:{s.Status}").OrderBy(g => g.Key).Select(g => $"{g.Key}={g.Count()}");
        var first503 = all.Where(s => s.Status == 503).Select(s => (double?)s.StartedAt).Min();
        Figures.Write(output, "outage", $"PostgreSQL stop {stopBegin:0.0}-{stopEnd:0.0} s, start {startBegin:0.0}-{startEnd:0.0} s; " +
            $"first 503 at {first503:0.0} s; first upload 201 after restart at {recoveredAt:0.0} s ({recoveredAt - startEnd:0.0} s after PostgreSQL was back); " +
            $"slowest answer {all.Max(s => s.Seconds):0.00} s; {all.Count} requests");
        Figures.Write(output, "outage", "answers: " + string.Join(", ", counts));

        var failures = all.Where(s => s.Error is not null).ToList();
        Assert.True(failures.Count == 0, "requests without an answer within 10 s:\n" + string.Join('\n', failures.Take(10)));
        var bad = all.Where(s => s.Status is not (>= 200 and < 300 or 503)).ToList();
        Assert.True(bad.Count == 0, "answers other than 2xx/503:\n" + string.Join('\n', bad.Take(10)));
        var badProblems = all.Where(s => s.Status == 503 && (s.RetryAfter is null || s.ContentType != "application/problem+json")).ToList();
        Assert.True(badProblems.Count == 0, "503 without Retry-After or problem details:\n" + string.Join('\n', badProblems.Take(10)));

        var readyDuringOutage = all.Where(s => s.Op == "ready" && s.StartedAt > stopEnd + 0.5 && s.StartedAt + s.Seconds < startBegin).ToList();
        Assert.NotEmpty(readyDuringOutage);
        Assert.All(readyDuringOutage, s => Assert.Equal(503, s.Status));
        Assert.True(all.Any(s => s.Op == "upload" && s.Status == 503), "no upload met the outage");

        Assert.True(recoveredAt is not null, "uploads were not answered 201 within 15 s after PostgreSQL came back");
        var tail = all.Where(s => s.StartedAt > tailFrom).ToList();
        Assert.All(tail, s => Assert.True(s.Status is >= 200 and < 300, $"after recovery: {s}"));

        var audit = await StorageAudit.RunAsync(Cluster.ConnectionString, StorageRoot);
        Assert.True(audit.RowsWithMissingFiles.Count == 0 && audit.OrphanFolders.Count == 0 && audit.StagingFolders.Count == 0, audit.ToString());
    }
}

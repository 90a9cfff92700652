using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using ImagePictures.Faults.Tests.Infrastructure;

namespace ImagePictures.Faults.Tests;

/// <summary>
/// Promise: with the pictures in S3, a store that goes away costs answers, never data. The Ceph
/// gateway is SIGKILLed for 10 seconds under load: every request is answered within 10 s with 2xx or
/// 503 + Retry-After + problem details, /health/ready names storage meanwhile, no row is written
/// without its objects, and uploads succeed again once the gateway is back, without a restart.
/// </summary>
public sealed class S3OutageTests(ITestOutputHelper output) : ChildServiceTest
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(10);
    private sealed record Sample(string Op, double StartedAt, double Seconds, int Status, string? RetryAfter, string? ContentType, string? Error, string? Body);

    [Fact]
    public async Task EveryRequestIsAnsweredNoRowLacksItsObjectsAndUploadsResumeWhenTheGatewayIsBack()
    {
        var storage = await FaultStorage.CreateAsync("S3", StorageRoot);
        Child = await ServiceProcess.StartAsync(storage.Settings(Cluster.ConnectionString,
            new Dictionary<string, string> { ["Pictures__MaxPicturesPerUser"] = "100000", ["OrphanSweep__GraceMinutes"] = "0" }));
        var jpegs = Service.SmallJpegs(4, 13);
        var clock = Stopwatch.StartNew();
        var samples = new ConcurrentQueue<Sample>();
        var stop = new CancellationTokenSource();

        async Task<HttpResponseMessage?> Call(HttpClient client, string op, Func<HttpClient, Task<HttpResponseMessage>> send)
        {
            var started = clock.Elapsed.TotalSeconds;
            try
            {
                var response = await send(client);
                var body = (int)response.StatusCode >= 400 ? await response.Content.ReadAsStringAsync() : null;
                samples.Enqueue(new Sample(op, started, clock.Elapsed.TotalSeconds - started, (int)response.StatusCode,
                    response.Headers.RetryAfter?.ToString(), response.Content.Headers.ContentType?.MediaType, null, body));
                return response;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
            {
                samples.Enqueue(new Sample(op, started, clock.Elapsed.TotalSeconds - started, 0, null, null, e.GetType().Name + ": " + e.Message, null));
                return null;
            }
        }

        async Task UserLoad(string user, int index)
        {
            using var client = Child.Client(Tokens.For(user), timeout: TimeSpan.FromSeconds(10));
            var i = 0;
            while (!stop.IsCancellationRequested)
            {
                var upload = await Call(client, "upload", c => c.PostAsync($"/api/users/{user}/pictures?activate=true", Service.Form(jpegs[(i + index) % jpegs.Length])));
                if (upload?.StatusCode == HttpStatusCode.Created && await Service.IdOf(upload) is { } id)
                    await Call(client, "variant", c => c.GetAsync($"/pictures/{id}/512")); // a first read: from the bucket
                await Call(client, "avatar", c => c.GetAsync($"/avatars/{user}?size=64"));
                i++;
                await Task.Delay(100);
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

        // A picture whose variants were never read, so that reading one during the outage must go to the bucket.
        using var reader = Child.Client(Tokens.For("s3-outage-reader"), timeout: TimeSpan.FromSeconds(10));
        var unread = await reader.PostAsync("/api/users/s3-outage-reader/pictures", Service.Form(jpegs[0]));
        Assert.Equal(HttpStatusCode.Created, unread.StatusCode);
        var unreadId = (await Service.IdOf(unread))!.Value;

        var load = new[] { UserLoad("s3-outage-a", 0), UserLoad("s3-outage-b", 1), UserLoad("s3-outage-c", 2), ReadyProbe() };
        await Task.Delay(3000);
        var stopAt = clock.Elapsed.TotalSeconds;
        FaultGateway.Instance.StopGateway();
        HttpResponseMessage? readDuringOutage;
        double restartAt; // the gateway may answer before StartGateway returns, so the outage ends here
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            readDuringOutage = await Call(reader, "unread-variant", c => c.GetAsync($"/pictures/{unreadId}/256"));
            await Task.Delay(Outage - TimeSpan.FromSeconds(1));
        }
        finally
        {
            restartAt = clock.Elapsed.TotalSeconds;
            FaultGateway.Instance.StartGateway();
        }
        var backAt = clock.Elapsed.TotalSeconds;

        double? recoveredAt = null;
        while (clock.Elapsed.TotalSeconds < backAt + 15)
        {
            recoveredAt = samples.Where(s => s.Op == "upload" && s.Status == 201 && s.StartedAt > backAt).Select(s => (double?)s.StartedAt + s.Seconds).Min();
            if (recoveredAt is not null) break;
            await Task.Delay(200);
        }
        await Task.Delay(3000);
        var tailFrom = clock.Elapsed.TotalSeconds - 2;
        await stop.CancelAsync();
        await Task.WhenAll(load);

        var all = samples.ToList();
        var counts = all.GroupBy(s => $"{s.Op}:{s.Status}").OrderBy(g => g.Key).Select(g => $"{g.Key}={g.Count()}");
        var outage = all.Where(s => s.StartedAt > stopAt + 0.5 && s.StartedAt + s.Seconds < restartAt).ToList();
        Figures.Write(output, "s3-outage", $"gateway killed at {stopAt:0.0} s, back at {backAt:0.0} s; first upload 201 after that at {recoveredAt:0.0} s; " +
            $"slowest answer {all.Max(s => s.Seconds):0.00} s, slowest during the outage {outage.Select(s => s.Seconds).DefaultIfEmpty().Max():0.00} s; {all.Count} requests");
        Figures.Write(output, "s3-outage", "answers: " + string.Join(", ", counts));

        var failures = all.Where(s => s.Error is not null).ToList();
        Assert.True(failures.Count == 0, "requests without an answer within 10 s:\n" + string.Join('\n', failures.Take(10)));
        var bad = all.Where(s => s.Status is not (>= 200 and < 300 or 503)).ToList();
        Assert.True(bad.Count == 0, "answers other than 2xx/503:\n" + string.Join('\n', bad.Take(10)));
        var badProblems = all.Where(s => s.Status == 503 && (s.RetryAfter is null || s.ContentType != "application/problem+json")).ToList();
        Assert.True(badProblems.Count == 0, "503 without Retry-After or problem details:\n" + string.Join('\n', badProblems.Take(10)));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, readDuringOutage?.StatusCode); // a read that needs the bucket
        Assert.NotNull(readDuringOutage!.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/pictures/{unreadId}/256")).StatusCode); // and after it is back

        var uploadsDuringOutage = outage.Where(s => s.Op == "upload").ToList();
        Assert.NotEmpty(uploadsDuringOutage);
        Assert.All(uploadsDuringOutage, s => Assert.Equal(503, s.Status));
        var readyDuringOutage = outage.Where(s => s.Op == "ready").ToList();
        Assert.NotEmpty(readyDuringOutage);
        Assert.All(readyDuringOutage, s => Assert.True(s.Status == 503 && s.Body!.Contains("storage"), s.ToString()));

        Assert.True(recoveredAt is not null, "uploads were not answered 201 within 15 s after the gateway came back");
        var tail = all.Where(s => s.StartedAt > tailFrom).ToList();
        Assert.All(tail, s => Assert.True(s.Status is >= 200 and < 300, $"after recovery: {s}"));

        var audit = await storage.AuditAsync(Cluster.ConnectionString);
        Figures.Write(output, "s3-outage", "before orphan sweep: " + audit);
        Assert.Empty(audit.RowsWithMissingFiles);
        // Objects of uploads that failed mid-way, whose clean-up could not reach the gateway either, are orphan-sweep's.
        using var admin = Child.Client(Tokens.Admin());
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync("/api/admin/jobs/orphan-sweep/trigger", null)).StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (DateTime.UtcNow < deadline && (audit = await storage.AuditAsync(Cluster.ConnectionString)).OrphanFolders.Count > 0) await Task.Delay(250);
        Figures.Write(output, "s3-outage", "after orphan sweep: " + audit);
        Assert.Empty(audit.OrphanFolders);
        Assert.Empty(audit.RowsWithMissingFiles);
        Assert.Empty(audit.StrayFiles);
    }
}

using System.Collections.Concurrent;
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
[Trait("Category", "Fault")]
public sealed class S3OutageTests(ITestOutputHelper output) : ChildServiceTest
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task EveryRequestIsAnsweredNoRowLacksItsObjectsAndUploadsResumeWhenTheGatewayIsBack()
    {
        var storage = await FaultStorage.CreateAsync("S3", StorageRoot);
        Child = await ServiceProcess.StartAsync(storage.Settings(Cluster.ConnectionString,
            new Dictionary<string, string> { ["Pictures__MaxPicturesPerUser"] = "100000", ["OrphanSweep__GraceMinutes"] = "0" }));
        var jpegs = Service.SmallJpegs(4, 13);
        var load = new OutageLoad();
        var uploaded = new ConcurrentDictionary<string, bool>();

        void UserLoad(string user, int index)
        {
            var client = Child.Client(Tokens.For(user), timeout: TimeSpan.FromSeconds(10));
            var i = 0;
            load.Loop(async () =>
            {
                var upload = await load.CallAsync(client, "upload", c => c.PostAsync($"/api/users/{user}/pictures?activate=true", Service.Form(jpegs[(i + index) % jpegs.Length])));
                if (upload?.StatusCode == HttpStatusCode.Created && await Service.IdOf(upload) is { } id)
                {
                    uploaded[user] = true;
                    await load.CallAsync(client, "variant", c => c.GetAsync($"/pictures/{id}/512")); // a first read: from the bucket
                }
                await load.CallAsync(client, "avatar", c => c.GetAsync($"/avatars/{user}?size=64"));
                i++;
            }, TimeSpan.FromMilliseconds(100));
        }

        // A picture whose variants were never read, so that reading one during the outage must go to the bucket.
        using var reader = Child.Client(Tokens.For("s3-outage-reader"), timeout: TimeSpan.FromSeconds(10));
        var unread = await reader.PostAsync("/api/users/s3-outage-reader/pictures", Service.Form(jpegs[0]));
        Assert.Equal(HttpStatusCode.Created, unread.StatusCode);
        var unreadId = (await Service.IdOf(unread))!.Value;

        UserLoad("s3-outage-a", 0);
        UserLoad("s3-outage-b", 1);
        UserLoad("s3-outage-c", 2);
        load.ProbeReadiness(Child.Client(timeout: TimeSpan.FromSeconds(10)));
        await Eventually(() => uploaded.Count == 3, "every user uploaded a picture before the outage");
        var stopAt = load.Now;
        TestGateway.Instance.StopGateway();
        HttpResponseMessage? readDuringOutage;
        double restartAt; // the gateway may answer before StartGateway returns, so the outage ends here
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(1)); // into the outage, which lasts 10 s whatever happens
            readDuringOutage = await load.CallAsync(reader, "unread-variant", c => c.GetAsync($"/pictures/{unreadId}/256"));
            await Task.Delay(Outage - TimeSpan.FromSeconds(1));
        }
        finally
        {
            restartAt = load.Now;
            TestGateway.Instance.StartGateway();
        }
        var backAt = load.Now;

        var recoveredAt = await load.RecoveryAsync("upload", after: backAt);
        // Once uploads are back, every kind of call is answered a few more times: those answers must all be 2xx.
        var tail = recoveredAt is null ? [] : await load.AnswersFromAsync(recoveredAt.Value, "upload", "variant", "avatar", "ready");
        await load.StopAsync();

        var all = load.Samples;
        var outage = all.Where(s => s.StartedAt > stopAt + 0.5 && s.StartedAt + s.Seconds < restartAt).ToList();
        Figures.Write(output, "s3-outage", $"gateway killed at {stopAt:0.0} s, back at {backAt:0.0} s; first upload 201 after that at {recoveredAt:0.0} s; " +
            $"slowest answer {all.Max(s => s.Seconds):0.00} s, slowest during the outage {outage.Select(s => s.Seconds).DefaultIfEmpty().Max():0.00} s; {all.Count} requests");
        Figures.Write(output, "s3-outage", "answers: " + load.Counts());

        load.AssertEveryAnswerIsClear();
        Assert.Equal(HttpStatusCode.ServiceUnavailable, readDuringOutage?.StatusCode); // a read that needs the bucket
        Assert.NotNull(readDuringOutage!.Headers.RetryAfter);
        Assert.Equal(HttpStatusCode.OK, (await reader.GetAsync($"/pictures/{unreadId}/256")).StatusCode); // and after it is back

        var uploadsDuringOutage = outage.Where(s => s.Op == "upload").ToList();
        Assert.NotEmpty(uploadsDuringOutage);
        Assert.All(uploadsDuringOutage, s => Assert.Equal(503, s.Status));
        var readyDuringOutage = outage.Where(s => s.Op == "ready").ToList();
        Assert.NotEmpty(readyDuringOutage);
        Assert.All(readyDuringOutage, s => Assert.True(s.Status == 503 && s.Body!.Contains("storage"), s.ToString()));

        Assert.True(recoveredAt is not null, "uploads were not answered 201 again after the gateway came back");
        Assert.All(tail, s => Assert.True(s.Status is >= 200 and < 300, $"after recovery: {s}"));

        var audit = await storage.AuditAsync(Cluster.ConnectionString);
        Figures.Write(output, "s3-outage", "before orphan sweep: " + audit);
        Assert.Empty(audit.RowsWithMissingFiles);
        // Objects of uploads that failed mid-way, whose clean-up could not reach the gateway either, are orphan-sweep's.
        using var admin = Child.Client(Tokens.Admin());
        Assert.Equal(HttpStatusCode.Accepted, (await admin.PostAsync("/api/admin/jobs/orphan-sweep/trigger", null)).StatusCode);
        await Eventually(async () => (audit = await storage.AuditAsync(Cluster.ConnectionString)).OrphanFolders.Count == 0, "orphan-sweep removed the orphan objects");
        Figures.Write(output, "s3-outage", "after orphan sweep: " + audit);
        Assert.Empty(audit.OrphanFolders);
        Assert.Empty(audit.RowsWithMissingFiles);
        Assert.Empty(audit.StrayFiles);
    }
}

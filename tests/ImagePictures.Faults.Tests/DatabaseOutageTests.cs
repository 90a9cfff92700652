using System.Collections.Concurrent;
using System.Net;
using ImagePictures.Faults.Tests.Infrastructure;

namespace ImagePictures.Faults.Tests;

/// <summary>
/// Promise: every request gets a clear answer. PostgreSQL is stopped for 10 seconds under a light
/// load: every request is answered within 10 s (the clients' timeout) with 2xx or 503 + Retry-After + problem details,
/// /health/ready is 503 meanwhile, and the service recovers by itself once PostgreSQL is back.
/// </summary>
[Trait("Category", "Fault")]
public sealed class DatabaseOutageTests(ITestOutputHelper output) : ChildServiceTest
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task EveryRequestIsAnsweredAndTheServiceRecoversWithoutRestart()
    {
        Child = await ServiceProcess.StartAsync(ServiceProcess.Settings(Cluster.ConnectionString, StorageRoot,
            new Dictionary<string, string> { ["Pictures__MaxPicturesPerUser"] = "100000" }));
        var jpegs = Service.SmallJpegs(4, 11);
        var load = new OutageLoad();
        var uploaded = new ConcurrentDictionary<string, bool>();

        void UserLoad(string user, int index)
        {
            var client = Child.Client(Tokens.For(user), timeout: TimeSpan.FromSeconds(10));
            var i = 0;
            load.Loop(async () =>
            {
                if ((await load.CallAsync(client, "upload", c => c.PostAsync($"/api/users/{user}/pictures?activate=true", Service.Form(jpegs[(i + index) % jpegs.Length]))))?.StatusCode == HttpStatusCode.Created)
                    uploaded[user] = true;
                await load.CallAsync(client, "list", c => c.GetAsync($"/api/users/{user}/pictures"));
                await load.CallAsync(client, "avatar", c => c.GetAsync($"/avatars/{user}?size=64"));
                await load.CallAsync(client, "active", c => c.GetAsync($"/api/users/{user}/active-picture"));
                i++;
            }, TimeSpan.FromMilliseconds(150));
        }

        UserLoad("outage-a", 0);
        UserLoad("outage-b", 1);
        load.ProbeReadiness(Child.Client(timeout: TimeSpan.FromSeconds(10)));
        // Both users have an active picture before the outage, so "no active picture" (404) is never right here.
        await Eventually(() => uploaded.Count == 2, "both users uploaded a picture before the outage");
        var stopBegin = load.Now;
        Cluster.Stop();
        var stopEnd = load.Now;
        await Task.Delay(Outage); // the outage itself, not a wait for something
        var startBegin = load.Now;
        Cluster.Start();
        var startEnd = load.Now;

        var recoveredAt = await load.RecoveryAsync("upload", after: startEnd);
        // Once uploads are back, every kind of call is answered a few more times: those answers must all be 2xx.
        var tail = recoveredAt is null ? [] : await load.AnswersFromAsync(recoveredAt.Value, "upload", "list", "avatar", "active", "ready");
        await load.StopAsync();

        var all = load.Samples;
        var first503 = all.Where(s => s.Status == 503).Select(s => (double?)s.StartedAt).Min();
        Figures.Write(output, "outage", $"PostgreSQL stop {stopBegin:0.0}-{stopEnd:0.0} s, start {startBegin:0.0}-{startEnd:0.0} s; " +
            $"first 503 at {first503:0.0} s; first upload 201 after restart at {recoveredAt:0.0} s ({recoveredAt - startEnd:0.0} s after PostgreSQL was back); " +
            $"slowest answer {all.Max(s => s.Seconds):0.00} s; {all.Count} requests");
        Figures.Write(output, "outage", "answers: " + load.Counts());

        load.AssertEveryAnswerIsClear();
        var readyDuringOutage = all.Where(s => s.Op == "ready" && s.StartedAt > stopEnd + 0.5 && s.StartedAt + s.Seconds < startBegin).ToList();
        Assert.NotEmpty(readyDuringOutage);
        Assert.All(readyDuringOutage, s => Assert.Equal(503, s.Status));
        Assert.True(all.Any(s => s.Op == "upload" && s.Status == 503), "no upload met the outage");

        Assert.True(recoveredAt is not null, "uploads were not answered 201 again after PostgreSQL came back");
        Assert.All(tail, s => Assert.True(s.Status is >= 200 and < 300, $"after recovery: {s}"));

        var audit = await StorageAudit.RunAsync(Cluster.ConnectionString, StorageRoot);
        Assert.True(audit.RowsWithMissingFiles.Count == 0 && audit.OrphanFolders.Count == 0 && audit.StagingFolders.Count == 0, audit.ToString());
    }
}

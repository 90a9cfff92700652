using System.Globalization;
using System.Net.Http.Headers;
using ImagePictures.Benchmarks.Harness;

namespace ImagePictures.Benchmarks.Sections;

/// <summary>
/// Fan-out latency of a picture change to N watchers, the service against BareHub (a bare SignalR hub sending
/// the same event), measured by tests/bench-node/fanout.js in rounds that alternate between the two.
/// </summary>
public sealed class FanoutSection() : Section("fanout")
{
    private const string Goal = "p99 ≤ 1.2×, all delivered";

    public override async Task RunAsync(BenchContext ctx, Report report)
    {
        var barePort = BenchContext.FreePort();
        var bareUrl = $"http://127.0.0.1:{barePort}";
        ChildProcess.Start(ctx.Cleanup, "dotnet", [Path.Combine(ctx.Repo, "tests", "BareHub", "bin", "Release", "net10.0", "BareHub.dll")],
            new Dictionary<string, string> { ["ASPNETCORE_URLS"] = bareUrl, ["Logging__LogLevel__Default"] = "Warning" });
        await BenchContext.WaitHttpAsync(bareUrl + "/", TimeSpan.FromSeconds(60));

        var fan = await Drivers.SeedFanoutAsync(ctx.ServiceUrl, ctx.SmallJpeg, "bench-fan");
        // BareHub sends the service's own picture JSON, so both sides broadcast events of the same size.
        using var http = Drivers.Client(ctx.ServiceUrl);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", fan.Token);
        var pictureA = Path.Combine(ctx.Work, "picture-a.json");
        var pictureB = Path.Combine(ctx.Work, "picture-b.json");
        await File.WriteAllTextAsync(pictureA, await http.GetStringAsync($"/api/users/bench-fan/pictures/{fan.A}"));
        await File.WriteAllTextAsync(pictureB, await http.GetStringAsync($"/api/users/bench-fan/pictures/{fan.B}"));
        http.DefaultRequestHeaders.Authorization = null;
        var watcherToken = await Drivers.TokenAsync(http, "bench-watcher");

        foreach (var n in ctx.Options.FanoutSizes)
        {
            BenchContext.Log($"fan-out: N={n} watchers on each side, rounds alternating between the service and BareHub");
            Dictionary<string, string> f;
            try
            {
                var output = await ChildProcess.RunAsync(ctx.Cleanup, "node",
                    ["fanout.js", "--ours", ctx.ServiceUrl, "--bare", bareUrl, "--n", n.ToString(), "--rounds", ctx.Options.FanoutRounds.ToString(),
                     "--per-process", "500", "--target", "bench-fan", "--token", fan.Token, "--watcher-token", watcherToken,
                     "--a", fan.A, "--b", fan.B, "--picture-a", pictureA, "--picture-b", pictureB],
                    workingDirectory: Path.Combine(ctx.Repo, "tests", "bench-node"));
                f = ParseResultLine(output);
            }
            catch (InvalidOperationException e)
            {
                report.Add(new BenchRow($"fan-out N={n}", "failed: " + e.Message.Split('\n')[0], "failed", null, Goal, Outcome.Missed));
                continue;
            }
            double D(string key) => double.Parse(f[key], CultureInfo.InvariantCulture);
            var r = BenchRow.Divide(D("ours_p99_ms"), D("bare_p99_ms"));
            report.Add(new BenchRow($"fan-out N={n} ({ctx.Options.FanoutRounds} changes per side, {f["procs"]} client processes)",
                $"p50 {f["ours_p50_ms"]} ms, p99 {f["ours_p99_ms"]} ms; delivered {f["ours_delivered"]}/{f["expected"]}",
                $"BareHub p50 {f["bare_p50_ms"]} ms, p99 {f["bare_p99_ms"]} ms; delivered {f["bare_delivered"]}/{f["expected"]}",
                r, Goal, BenchRow.MetIf(r <= 1.2 && f["ours_delivered"] == f["expected"]), D("ours_p99_ms"), D("bare_p99_ms"), "ms", RatioPrefix: "p99 "));
        }
    }

    /// <summary>fanout.js ends with one line "RESULT key=value ...".</summary>
    private static Dictionary<string, string> ParseResultLine(string output) =>
        output.Split('\n').LastOrDefault(l => l.StartsWith("RESULT ")) is { } line
            ? line["RESULT ".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(kv => kv.Split('=', 2)).ToDictionary(kv => kv[0], kv => kv[1])
            : throw new InvalidOperationException("fanout.js printed no RESULT line");
}

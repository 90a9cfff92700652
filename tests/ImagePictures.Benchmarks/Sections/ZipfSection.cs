using System.Globalization;
using ImagePictures.Benchmarks.Harness;

namespace ImagePictures.Benchmarks.Sections;

/// <summary>
/// Avatars of a million users requested with Zipf popularity, against the hot avatar (one path through the
/// same wrk script), measured before and after; also PostgreSQL queries per request, the cache hit ratio and
/// the service's RSS.
/// </summary>
public sealed class ZipfSection() : Section("zipf")
{
    public override async Task RunAsync(BenchContext ctx, Report report)
    {
        var o = ctx.Options;
        var paths = Path.Combine(ctx.Work, "zipf-paths");
        var hotPath = Path.Combine(ctx.Work, "hot-path");
        BenchContext.Log($"zipf: seeding {o.ZipfUsers} users ({o.ZipfPictures} with a picture) and a Zipf(s=1.0) request list");
        var z = await Zipf.SeedAsync(ctx.Conn, ctx.Storage, ctx.AvatarFile, o.ZipfUsers, o.ZipfPictures, paths, 500_000, 1.0);
        await File.WriteAllTextAsync(hotPath, $"/avatars/{z.HotUser}?size=64\n");
        // The rows were written behind the service's back: a restart makes it load them as a fresh instance would.
        BenchContext.Log("zipf: restarting the service");
        await ctx.RestartServiceAsync();
        var root = ctx.ServiceUrl + "/";

        // Warm-up after the restart (JIT, connection pool, the index load, the first lookups); not measured.
        await Wrk.RunAsync(ctx, root, o.ServeWarmSeconds / 2, pathsFile: paths);
        await Wrk.RunAsync(ctx, root, o.ServeWarmSeconds / 2, pathsFile: hotPath);
        BenchContext.Log($"zipf: hot-avatar reference (same wrk script, one path), {o.ZipfSeconds}s");
        var hot1 = await Wrk.RunAsync(ctx, root, o.ZipfSeconds, pathsFile: hotPath);
        var before = await Zipf.CountersAsync(ctx.Conn);
        var (hits0, misses0) = await CacheLookupsAsync(ctx.ServiceUrl);
        BenchContext.Log($"zipf: {o.ZipfUsers} users, {o.ZipfSeconds}s");
        var run = await Wrk.RunAsync(ctx, root, o.ZipfSeconds, pathsFile: paths);
        var after = await Zipf.CountersAsync(ctx.Conn);
        var (hits1, misses1) = await CacheLookupsAsync(ctx.ServiceUrl);
        BenchContext.Log($"zipf: hot-avatar reference again, {o.ZipfSeconds}s");
        var hot2 = await Wrk.RunAsync(ctx, root, o.ZipfSeconds, pathsFile: hotPath);

        var hotRps = Math.Round((hot1.Rps + hot2.Rps) / 2);
        var commits = after.Commits - before.Commits;
        var queriesPerRequest = Math.Round((double)commits / run.Requests, 4);
        var statements = after.Statements is { } s1 && before.Statements is { } s0 ? (s1 - s0).ToString() : "n/a (pg_stat_statements not loaded)";
        var (hits, misses) = (hits1 - hits0, misses1 - misses0);
        var hitRatio = hits + misses > 0
            ? $"cache hit ratio {(double)hits / (hits + misses):0.0000} (metrics)"
            : $"hit ratio ≥ {1 - queriesPerRequest:0.0000} (1 − queries/request; no cache metric)";
        var rss = Math.Round(BenchContext.MemoryMb(ctx.Service.Pid, "VmRSS"));
        var hwm = Math.Round(BenchContext.MemoryMb(ctx.Service.Pid, "VmHWM"));
        var r = BenchRow.Divide(run.Rps, hotRps);
        report.Add(new BenchRow(
            $"avatars over {o.ZipfUsers} users, Zipf s=1.0 ({z.Pictures} with pictures; {z.Distinct} distinct users in the list, {z.PictureShare:0.000} of requests to users with a picture)",
            $"{run.Rps:0} req/s, {run.NonOk} non-2xx; PostgreSQL {queriesPerRequest:0.0000} queries/request ({commits} commits / {run.Requests} requests; statements: {statements}); {hitRatio}; service RSS {rss} MB (peak since restart {hwm} MB)",
            $"hot avatar, same wrk script: {hotRps:0} req/s (runs: {hot1.Rps:0}, {hot2.Rps:0})",
            r, "≥ 0.6×; ≤ 0.1 queries/request; RSS ≤ 400 MB",
            BenchRow.MetIf(r >= 0.6 && queriesPerRequest <= 0.1 && rss <= 400 && run.NonOk == 0), run.Rps, hotRps, "req/s"));
    }

    /// <summary>The avatar cache's lookups so far, from the service's Prometheus metrics (0, 0 when there is no such metric).</summary>
    private static async Task<(long Hits, long Misses)> CacheLookupsAsync(string serviceUrl)
    {
        string text;
        try
        {
            using var http = new HttpClient();
            text = await http.GetStringAsync(serviceUrl + "/metrics");
        }
        catch (HttpRequestException) { return (0, 0); }
        long Sum(string result) => (long)text.Split('\n')
            .Where(l => l.StartsWith("imagepictures_avatar_cache_lookups_total") && l.Contains($"result=\"{result}\""))
            .Sum(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture));
        return (Sum("hit"), Sum("miss"));
    }
}

using ImagePictures.Benchmarks.Harness;

namespace ImagePictures.Benchmarks.Sections;

/// <summary>
/// GET of a 64 px WebP avatar (200 and 304) against nginx serving the same bytes as a static file. nginx is
/// measured before and after the service's runs; its mean is the baseline (the machine drifts).
/// </summary>
public sealed class ServingSection() : Section("serving")
{
    private const double Goal = 0.75;

    public override async Task RunAsync(BenchContext ctx, Report report)
    {
        var www = Path.Combine(ctx.Work, "www");
        Directory.CreateDirectory(www);
        File.Copy(ctx.AvatarFile, Path.Combine(www, "avatar64.webp"));
        File.SetUnixFileMode(www, (UnixFileMode)0b111_101_101);
        File.SetUnixFileMode(Path.Combine(www, "avatar64.webp"), (UnixFileMode)0b110_100_100);
        var nginxUrl = await Nginx.StartAsync(ctx, www, "/avatar64.webp") + "/avatar64.webp";
        var oursUrl = ctx.ServiceUrl + ctx.Avatar.Path;
        var variantUrl = ctx.ServiceUrl + ctx.Avatar.Variant;

        using var http = new HttpClient();
        var nginxBytes = await http.GetByteArrayAsync(nginxUrl);
        foreach (var u in new[] { oursUrl, variantUrl })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, u) { Headers = { { "Accept", "image/webp" } } };
            using var response = await http.SendAsync(request);
            var served = await response.Content.ReadAsByteArrayAsync();
            if (!nginxBytes.SequenceEqual(served))
                throw new InvalidOperationException($"nginx and {u} serve different bytes");
        }
        string nginxEtag;
        using (var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, nginxUrl))) nginxEtag = head.Headers.ETag!.ToString();
        var bytes = new FileInfo(ctx.AvatarFile).Length;

        // A freshly started service compiles its hot paths for the first 20-40 s (tiered JIT; a profile showed a
        // third of a core in the JIT 30 s in): that is start-up, not serving, so it is not measured.
        var warm = ctx.Options.ServeWarmSeconds;
        BenchContext.Log($"serving: warming the service up for {warm}s");
        await Wrk.RunAsync(ctx, oursUrl, warm / 2);
        await Wrk.RunAsync(ctx, variantUrl, warm / 4);
        await Wrk.RunAsync(ctx, oursUrl, warm / 4, [$"If-None-Match: {ctx.Avatar.ETag}"]);

        BenchContext.Log($"serving: wrk -t2 -c64 -d{ctx.Options.WrkSeconds}s, 200 path (nginx, avatar, variant, nginx)");
        var n1 = await Wrk.WarmAndRunAsync(ctx, nginxUrl);
        var o = await Wrk.WarmAndRunAsync(ctx, oursUrl);
        var v = await Wrk.WarmAndRunAsync(ctx, variantUrl);
        var n2 = await Wrk.WarmAndRunAsync(ctx, nginxUrl);
        var nginxRps = Math.Round((n1.Rps + n2.Rps) / 2);
        var r = BenchRow.Divide(o.Rps, nginxRps);
        report.Add(new BenchRow($"serving 200 (GET /avatars/{{id}}?size=64, {bytes} B WebP)",
            $"{o.Rps:0} req/s; p50 {o.P50}, p99 {o.P99}; {o.NonOk} non-2xx",
            $"nginx static {nginxRps:0} req/s (runs: {n1.Rps:0}, {n2.Rps:0}); p50 {n1.P50}, p99 {n1.P99}",
            r, $"≥ {Goal}×", BenchRow.MetIf(r >= Goal && o.NonOk == 0), o.Rps, nginxRps, "req/s"));
        r = BenchRow.Divide(v.Rps, nginxRps);
        report.Add(new BenchRow("serving 200 (GET /pictures/{id}/64, immutable)",
            $"{v.Rps:0} req/s; p50 {v.P50}, p99 {v.P99}; {v.NonOk} non-2xx", $"nginx static {nginxRps:0} req/s",
            r, $"≥ {Goal}×", BenchRow.MetIf(r >= Goal && v.NonOk == 0), v.Rps, nginxRps, "req/s"));

        BenchContext.Log("serving: 304 path (If-None-Match; nginx, avatar, nginx)");
        n1 = await Wrk.WarmAndRunAsync(ctx, nginxUrl, $"If-None-Match: {nginxEtag}");
        o = await Wrk.WarmAndRunAsync(ctx, oursUrl, $"If-None-Match: {ctx.Avatar.ETag}");
        n2 = await Wrk.WarmAndRunAsync(ctx, nginxUrl, $"If-None-Match: {nginxEtag}");
        nginxRps = Math.Round((n1.Rps + n2.Rps) / 2);
        // wrk counts 304 as a success (3xx); check once that both really answer 304.
        var oCode = await StatusAsync(http, oursUrl, ctx.Avatar.ETag);
        var nCode = await StatusAsync(http, nginxUrl, nginxEtag);
        r = BenchRow.Divide(o.Rps, nginxRps);
        report.Add(new BenchRow("serving 304 (If-None-Match, /avatars)",
            $"{o.Rps:0} req/s; p50 {o.P50}, p99 {o.P99} (status {oCode})",
            $"nginx static {nginxRps:0} req/s (runs: {n1.Rps:0}, {n2.Rps:0}); p50 {n1.P50}, p99 {n1.P99} (status {nCode})",
            r, $"≥ {Goal}×", BenchRow.MetIf(r >= Goal && oCode == 304 && nCode == 304), o.Rps, nginxRps, "req/s"));
    }

    private static async Task<int> StatusAsync(HttpClient http, string url, string etag)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("Accept", "image/webp");
        request.Headers.TryAddWithoutValidation("If-None-Match", etag);
        using var response = await http.SendAsync(request);
        return (int)response.StatusCode;
    }
}

using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using ImagePictures.Benchmarks.Harness;

namespace ImagePictures.Benchmarks.Sections;

/// <summary>
/// GET /avatar/{hash} (docs/gravatar.md) against the same run's GET /avatars/{userId}?size=128, both under wrk
/// as in the serving section: a stored size (200 and 304), a generated identicon and a size that is not stored
/// (each after its first render). /avatars is measured before and after; its mean is the baseline. Then the
/// first render of new odd sizes near 512 px, one request each.
/// </summary>
public sealed class GravatarSection() : Section("gravatar")
{
    private const double Goal = 0.9;
    private const double FirstRenderGoalMs = 10;
    private const string Address = "bench-avatar@example.com";

    public override async Task RunAsync(BenchContext ctx, Report report)
    {
        using var http = Drivers.Client(ctx.ServiceUrl);
        var user = ctx.Avatar.Path.Split('/', '?')[2];
        var token = await Drivers.TokenAsync(http, user);
        using (var put = new HttpRequestMessage(HttpMethod.Put, $"/api/users/{user}/emails") { Content = JsonContent.Create(new { emails = new[] { Address } }) })
        {
            put.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            using var response = await http.SendAsync(put);
            response.EnsureSuccessStatusCode();
        }
        var md5 = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes(Address)));
        var unknown = Convert.ToHexStringLower(MD5.HashData(Encoding.UTF8.GetBytes("nobody-" + Guid.NewGuid())));
        // The hash index follows the registration's event; wait until the hash answers the picture.
        await Wait.Eventually(async () => (await GetAsync(http, $"/avatar/{md5}?s=128&d=404", null)).Status == 200,
            "the registered hash answers its picture", TimeSpan.FromSeconds(30));

        var avatars = ctx.ServiceUrl + $"/avatars/{user}?size=128";
        var hot = ctx.ServiceUrl + $"/avatar/{md5}?s=128";
        var identicon = ctx.ServiceUrl + $"/avatar/{unknown}?d=identicon&s=80";
        var made = ctx.ServiceUrl + $"/avatar/{md5}?s=80";
        var (avatarsStatus, avatarsEtag) = await GetAsync(http, avatars, null);
        var (hotStatus, hotEtag) = await GetAsync(http, hot, null);
        var (identiconStatus, _) = await GetAsync(http, identicon, null); // its first render
        var (madeStatus, _) = await GetAsync(http, made, null);           // its first render
        var avatars304 = (await GetAsync(http, avatars, avatarsEtag)).Status;
        var hot304 = (await GetAsync(http, hot, hotEtag)).Status;

        BenchContext.Log($"gravatar: warming up for {ctx.Options.ServeWarmSeconds}s");
        foreach (var u in new[] { avatars, hot, identicon, made })
            await Wrk.RunAsync(ctx, u, Math.Max(1, ctx.Options.ServeWarmSeconds / 4));

        BenchContext.Log($"gravatar: wrk -t2 -c64 -d{ctx.Options.WrkSeconds}s, 200 (avatars, avatar s=128, identicon, s=80, avatars)");
        var a1 = await Wrk.WarmAndRunAsync(ctx, avatars);
        var h = await Wrk.WarmAndRunAsync(ctx, hot);
        var i = await Wrk.WarmAndRunAsync(ctx, identicon);
        var m = await Wrk.WarmAndRunAsync(ctx, made);
        var a2 = await Wrk.WarmAndRunAsync(ctx, avatars);
        var baseRps = Math.Round((a1.Rps + a2.Rps) / 2);
        var baseline = $"/avatars/{{id}}?size=128 {baseRps:0} req/s (runs: {a1.Rps:0}, {a2.Rps:0}); p50 {a1.P50}, p99 {a1.P99}";
        void Add(string name, Wrk.Result r, int status, int want, string baselineText, double baselineRps)
        {
            var ratio = BenchRow.Divide(r.Rps, baselineRps);
            report.Add(new BenchRow(name, $"{r.Rps:0} req/s; p50 {r.P50}, p99 {r.P99}; {r.NonOk} non-2xx (status {status})",
                baselineText, ratio, $"≥ {Goal}×", BenchRow.MetIf(ratio >= Goal && r.NonOk == 0 && status == want), r.Rps, baselineRps, "req/s"));
        }
        Add("gravatar 200 (GET /avatar/{md5}?s=128, stored size)", h, hotStatus, 200, baseline, baseRps);
        Add("gravatar 200 (identicon, unknown md5, d=identicon&s=80, after first render)", i, identiconStatus, 200, baseline, baseRps);
        Add("gravatar 200 (GET /avatar/{md5}?s=80, not stored, after first render)", m, madeStatus, 200, baseline, baseRps);

        BenchContext.Log("gravatar: 304 (If-None-Match; avatars, avatar s=128, avatars)");
        a1 = await Wrk.WarmAndRunAsync(ctx, avatars, $"If-None-Match: {avatarsEtag}");
        h = await Wrk.WarmAndRunAsync(ctx, hot, $"If-None-Match: {hotEtag}");
        a2 = await Wrk.WarmAndRunAsync(ctx, avatars, $"If-None-Match: {avatarsEtag}");
        baseRps = Math.Round((a1.Rps + a2.Rps) / 2);
        Add("gravatar 304 (If-None-Match, /avatar/{md5}?s=128)", h, hot304, 304,
            $"/avatars/{{id}} 304 {baseRps:0} req/s (runs: {a1.Rps:0}, {a2.Rps:0}); p50 {a1.P50}, p99 {a1.P99} (status {avatars304})", baseRps);

        // One request per new size, one at a time: each is a decode of the 512 px variant, a resize and an encode.
        var count = ctx.Options.Quick ? 21 : 61;
        var ms = new List<double>(count);
        for (var n = 0; n < count; n++)
        {
            var started = Stopwatch.GetTimestamp();
            var (status, _) = await GetAsync(http, $"/avatar/{md5}?s={511 - n}", null);
            ms.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            if (status != 200) throw new InvalidOperationException($"/avatar/{md5}?s={511 - n} answered {status}");
        }
        ms.Sort();
        var median = ms[ms.Count / 2];
        report.Add(new BenchRow($"gravatar first render of a new odd size (s=511…{511 - count + 1}, WebP, from an 800×600 photo)",
            $"median {median:0.0} ms (min {ms[0]:0.0}, max {ms[^1]:0.0}; {count} sizes)", "—", null,
            $"≤ {FirstRenderGoalMs} ms", BenchRow.MetIf(median <= FirstRenderGoalMs), median, null, "ms"));
    }

    private static async Task<(int Status, string? ETag)> GetAsync(HttpClient http, string url, string? etag)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.TryAddWithoutValidation("Accept", "image/webp");
        if (etag is not null) request.Headers.TryAddWithoutValidation("If-None-Match", etag);
        using var response = await http.SendAsync(request);
        await response.Content.ReadAsByteArrayAsync();
        return ((int)response.StatusCode, response.Headers.ETag?.ToString());
    }
}

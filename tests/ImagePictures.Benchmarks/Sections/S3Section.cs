using ImagePictures.Benchmarks.Harness;

namespace ImagePictures.Benchmarks.Sections;

/// <summary>
/// Ingest and purge with the pictures in a bucket of a private Ceph S3 gateway: a second service (its own
/// database, so that the two services are not one job cluster) against the bare AWS SDK doing the same puts
/// and deletes in the same run.
/// </summary>
public sealed class S3Section() : Section("s3")
{
    public override async Task RunAsync(BenchContext ctx, Report report)
    {
        BenchContext.Log("s3: starting a private Ceph S3 gateway");
        var gateway = CephGateway.Start(Path.Combine(ctx.Work, "ceph"));
        ctx.Cleanup.Add("the Ceph gateway", gateway.Dispose);
        var s3Url = gateway.ServiceUrl;
        await S3Bench.CreateBucketAsync(s3Url, "bench-service");
        await S3Bench.CreateBucketAsync(s3Url, "bench-bare");
        var conn = await ctx.CreateDatabaseAsync("imagepictures_s3");
        var service = await ctx.StartServiceAsync("the S3 service", conn, Path.Combine(ctx.Work, "storage-s3"),
            gateway.Settings("bench-service", S3Bench.Prefix, separator: "__"));
        var url = service.BaseAddress.ToString().TrimEnd('/');
        BenchContext.Log($"s3: the service on S3 listens on {url}");

        var (s, w) = (ctx.Options.IngestSeconds, ctx.Options.WarmupSeconds);
        BenchContext.Log("s3 ingest: baseline (ImagePipeline in-process + bare SDK puts, 2 threads)");
        var bare = await S3Bench.IngestBaselineAsync(ctx.BigJpeg, s, 2, w, s3Url, "bench-bare");
        BenchContext.Log("s3 ingest: service on S3 (HTTP, 2 clients)");
        try
        {
            var ours = await Ingest.HttpAsync(url, ctx.BigJpeg, s, 2, w);
            var r = BenchRow.Divide(ours.Rate, bare.Rate);
            report.Add(new BenchRow($"S3 ingest ({ctx.JpegMb:0.0} MB 12 MP JPEG, 2 clients, Ceph)",
                $"{ours.Rate:0.###} uploads/s; p50 {ours.P50Ms:0} ms, p99 {ours.P99Ms:0} ms; {ours.Errors} errors",
                $"{bare.Rate:0.###} normalisations + 11 puts/s; p50 {bare.P50Ms:0} ms",
                r, "≥ 0.75× (as on disk)", BenchRow.MetIf(r >= 0.75 && ours.Errors == 0), ours.Rate, bare.Rate, "uploads/s"));
        }
        catch (HttpRequestException e)
        {
            report.Add(new BenchRow("S3 ingest", $"failed ({e.Message}; the service's log: {service.Tail(3)})", $"{bare.Rate:0.###}/s", null, "≥ 0.75×", Outcome.Missed));
        }

        foreach (var n in ctx.Options.S3PurgeSizes)
        {
            BenchContext.Log($"s3 purge: bare SDK deleting {n} pictures' keys");
            var bareDelete = await S3Bench.PurgeBaselineAsync(s3Url, "bench-bare", n, "32,64,128,256,512");
            BenchContext.Log($"s3 purge: seeding and purging {n} pictures");
            Purge.PurgeResult p;
            try { p = await S3Bench.PurgeAsync(url, conn, s3Url, "bench-service", n); }
            catch (Exception e) when (e is InvalidOperationException or HttpRequestException)
            {
                report.Add(new BenchRow($"S3 purge {n}", "failed: " + e.Message, "—", null, "all purged", Outcome.Missed));
                continue;
            }
            if (p.Status == "timeout")
            {
                report.Add(new BenchRow($"S3 purge {n}", $"failed: no finished run within {p.WallSeconds:0} s", "—", null, "all purged", Outcome.Missed));
                continue;
            }
            report.Add(new BenchRow($"S3 purge {n} expired trashed pictures (Ceph)",
                $"{p.JobSeconds:0.00} s ({p.Rate:0} pictures/s), status {p.Status}, rows left {p.RowsLeft}, objects left {p.FoldersLeft}",
                $"bare DeleteObjects of the same keys: {bareDelete.Rate:0} pictures/s",
                BenchRow.Divide(p.Rate, bareDelete.Rate), "all purged", BenchRow.MetIf(p.Complete && p.Failed == "0"), p.Rate, bareDelete.Rate, "pictures/s"));
        }
        if (service.HasExited) throw new InvalidOperationException($"the S3 service exited; its log:\n{service.Tail(30)}");
    }
}

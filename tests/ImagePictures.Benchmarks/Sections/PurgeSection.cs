using ImagePictures.Benchmarks.Harness;

namespace ImagePictures.Benchmarks.Sections;

/// <summary>The trash-purge job on n expired pictures, against the disk's own deletion rate for the same layout.</summary>
public sealed class PurgeSection() : Section("purge")
{
    public override async Task RunAsync(BenchContext ctx, Report report)
    {
        var fsN = ctx.Options.DiskBaselineFolders;
        var disk = Purge.FileSystemBaseline(ctx.Storage, fsN);
        double? firstRate = null;
        var firstN = 0;
        foreach (var n in ctx.Options.PurgeSizes)
        {
            BenchContext.Log($"purge: seeding and purging {n} pictures");
            var goal = n >= 100_000 ? "≥ 0.8× the disk, all purged" : "all purged";
            Purge.PurgeResult p;
            try { p = await Purge.RunAsync(ctx.ServiceUrl, ctx.Conn, ctx.Storage, n); }
            catch (Exception e) when (e is InvalidOperationException or HttpRequestException)
            {
                report.Add(new BenchRow($"purge {n}", "failed: " + e.Message, "—", null, "all purged; 100k ≥ 0.8× the disk", Outcome.Missed));
                continue;
            }
            if (p.Status == "timeout")
            {
                report.Add(new BenchRow($"purge {n}", $"failed: no finished run within {p.WallSeconds:0} s", "—", null, "all purged; 100k ≥ 0.8× the disk", Outcome.Missed));
                continue;
            }
            if (firstRate is null) (firstRate, firstN) = (p.Rate, n);
            var r = BenchRow.Divide(p.Rate, disk.Rate);
            var met = n >= 100_000 ? r >= 0.8 && p.Complete : p.Complete;
            report.Add(new BenchRow($"purge {n} expired trashed pictures",
                $"{p.Rate:0} pictures/s ({BenchRow.Divide(p.Rate, firstRate.Value):0.00}× the rate at {firstN}); job {p.JobSeconds:0.0} s (wall {p.WallSeconds:0.0} s); deleted {p.Deleted}, failed {p.Failed}; left: {p.RowsLeft} rows, {p.FoldersLeft} folders",
                $"bare Directory.Delete of {fsN} such folders, 4 threads: {disk.Rate:0} folders/s",
                r, goal, BenchRow.MetIf(met), p.Rate, disk.Rate, "pictures/s", RatioSuffix: "× of the disk"));
        }
    }
}

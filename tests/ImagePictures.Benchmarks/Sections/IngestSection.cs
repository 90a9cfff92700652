using ImagePictures.Benchmarks.Harness;

namespace ImagePictures.Benchmarks.Sections;

/// <summary>Uploads/s of the 12 MP JPEG through the service against the bare pipeline (libvips) and ImageSharp 2.1 loops, in-process.</summary>
public sealed class IngestSection() : Section("ingest")
{
    public override async Task RunAsync(BenchContext ctx, Report report)
    {
        var (s, w) = (ctx.Options.IngestSeconds, ctx.Options.WarmupSeconds);
        BenchContext.Log($"ingest: bare libvips loop (ImagePipeline in-process, 2 threads, {w}s warm-up, {s}s)");
        var vips = await Ingest.BaselineAsync(ctx.BigJpeg, s, 2, w);
        BenchContext.Log($"ingest: bare ImageSharp 2.1 loop (2 threads, {w}s warm-up, {s}s)");
        var sharp = await ImageSharpLoop.LoopAsync(ctx.BigJpeg, s, 2, w);
        BenchContext.Log($"ingest: service (HTTP, 2 clients, {w}s warm-up, {s}s)");
        Ingest.LoopResult ours;
        try { ours = await Ingest.HttpAsync(ctx.ServiceUrl, ctx.BigJpeg, s, 2, w); }
        catch (HttpRequestException e)
        {
            report.Add(new BenchRow("ingest", $"failed ({e.Message})", $"libvips {vips.Rate:0.###}/s, ImageSharp {sharp.Rate:0.###}/s", null,
                "≥ 0.9× libvips, ≥ 1.5× ImageSharp", Outcome.Missed));
            return;
        }
        var oursText = $"{ours.Rate:0.###} uploads/s; p50 {ours.P50Ms:0} ms, p99 {ours.P99Ms:0} ms; {ours.Errors} errors";
        var r = BenchRow.Divide(ours.Rate, vips.Rate);
        report.Add(new BenchRow($"ingest vs libvips ({ctx.JpegMb:0.0} MB 12 MP JPEG, 2 clients)", oursText,
            $"bare libvips loop {vips.Rate:0.###} normalisations/s; p50 {vips.P50Ms:0} ms, p99 {vips.P99Ms:0} ms",
            r, "≥ 0.9×", BenchRow.MetIf(r >= 0.9 && ours.Errors == 0), ours.Rate, vips.Rate, "uploads/s"));
        r = BenchRow.Divide(ours.Rate, sharp.Rate);
        report.Add(new BenchRow("ingest vs ImageSharp (same image, 2 clients)", oursText,
            $"bare ImageSharp 2.1.13 loop {sharp.Rate:0.###} normalisations/s; p50 {sharp.P50Ms:0} ms, p99 {sharp.P99Ms:0} ms",
            r, "≥ 1.5×", BenchRow.MetIf(r >= 1.5 && ours.Errors == 0), ours.Rate, sharp.Rate, "uploads/s"));
    }
}

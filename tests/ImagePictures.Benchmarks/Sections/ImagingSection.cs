using System.Diagnostics;
using System.Text;
using ImagePictures.Benchmarks.Harness;
using ImagePictures.Imaging;

namespace ImagePictures.Benchmarks.Sections;

/// <summary>
/// The imaging pipeline on its own, in a fresh process: how long one 12 MP photo takes, how fast an image whose
/// header claims too many pixels is refused, and whether memory grows over many mixed valid and hostile inputs.
/// These figures were assertions of ImagePipelineTests until the tests stopped timing and weighing things.
/// </summary>
public sealed class ImagingSection() : Section("imaging")
{
    public sealed record Figures(
        double NormalizeMs, double ImageSharpMs, double ProbeRefusalMs, double NormalizeRefusalMs,
        double ManagedGrowthMb, double VipsGrowthMb, double RssGrowthMb, double RssWarmMb, int Iterations);

    public override async Task RunAsync(BenchContext ctx, Report report)
    {
        BenchContext.Log("imaging: one 12 MP photo, huge-header refusals, memory over mixed inputs (a fresh process)");
        var f = await MeasuringChild.RunAsync<Figures>(ctx, "imaging", ctx.BigJpeg);
        var r = BenchRow.Divide(f.NormalizeMs, f.ImageSharpMs);
        report.Add(new BenchRow($"normalise one {ctx.JpegMb:0.0} MB 12 MP photo (in-process, one at a time, median of 5)",
            $"{f.NormalizeMs:0} ms", $"bare ImageSharp 2.1.13, the same photo: {f.ImageSharpMs:0} ms", r, "< 1 s",
            BenchRow.MetIf(f.NormalizeMs < 1000), f.NormalizeMs, f.ImageSharpMs, "ms"));
        var slowest = Math.Max(f.ProbeRefusalMs, f.NormalizeRefusalMs);
        r = BenchRow.Divide(slowest, f.NormalizeMs);
        report.Add(new BenchRow("refuse an image whose header claims too many pixels (50,000² PNG, 60,000² JPEG)",
            $"probe {f.ProbeRefusalMs:0.0} ms, normalise + stage {f.NormalizeRefusalMs:0.0} ms (slowest of the two images)",
            $"normalising the 12 MP photo: {f.NormalizeMs:0} ms", r, "< 1 s each, before decoding",
            BenchRow.MetIf(slowest < 1000), slowest, f.NormalizeMs, "ms"));
        report.Add(new BenchRow($"pipeline memory over {f.Iterations} mixed inputs (valid, alpha, truncated, SVG, huge header, crop)",
            $"growth: managed {f.ManagedGrowthMb:0.0} MB, libvips {f.VipsGrowthMb:0.00} MB, RSS {f.RssGrowthMb:0.0} MB",
            $"RSS after a 30-input warm-up: {f.RssWarmMb:0} MB", BenchRow.Divide(f.RssWarmMb + f.RssGrowthMb, f.RssWarmMb),
            "growth < 20 MB managed, < 5 MB libvips, < 150 MB RSS",
            BenchRow.MetIf(f.ManagedGrowthMb < 20 && f.VipsGrowthMb < 5 && f.RssGrowthMb < 150), f.RssGrowthMb, f.RssWarmMb, "MB"));
    }

    /// <summary>The child's side (a fresh process, see <see cref="MeasuringChild"/>).</summary>
    public static async Task<Figures> MeasureAsync(string jpegPath)
    {
        var photo = await File.ReadAllBytesAsync(jpegPath);
        using var pipeline = new ImagePipeline(new ImagingOptions());
        await pipeline.NormalizeAsync(photo); // warm-up
        var times = new List<double>();
        for (var i = 0; i < 5; i++) times.Add(await TimeAsync(() => pipeline.NormalizeAsync(photo)));
        ImageSharpLoop.Normalize(photo);
        var sharp = new List<double>();
        for (var i = 0; i < 3; i++) sharp.Add(await TimeAsync(() => Task.Run(() => ImageSharpLoop.Normalize(photo))));

        // Refusals: the header alone must decide, whatever the claimed size.
        pipeline.Probe(TestImages.PngHeaderOnly(10, 10)); // warm-up outside the measurement
        double probeMs = 0, normalizeMs = 0;
        foreach (var huge in new[] { TestImages.PngHeaderOnly(50_000, 50_000), TestImages.JpegClaiming(60_000, 60_000) })
        {
            var sw = Stopwatch.StartNew();
            try { pipeline.Probe(huge); throw new InvalidOperationException("a huge header was not refused"); }
            catch (ImageRejectedException e) when (e.Kind == RejectionKind.TooManyPixels) { }
            probeMs = Math.Max(probeMs, sw.Elapsed.TotalMilliseconds);
            sw.Restart();
            await ExpectTooManyPixels(() => pipeline.NormalizeAsync(huge));
            await ExpectTooManyPixels(() => pipeline.StageAsync(huge));
            normalizeMs = Math.Max(normalizeMs, sw.Elapsed.TotalMilliseconds);
        }

        var (managed, vips, rss, rssWarm, iterations) = await MemoryGrowthAsync();
        return new Figures(Median(times), Median(sharp), probeMs, normalizeMs, managed, vips, rss, rssWarm, iterations);
    }

    /// <summary>Many small normalisations of valid and hostile inputs: what stays allocated afterwards.</summary>
    private static async Task<(double Managed, double Vips, double Rss, double RssWarm, int Iterations)> MemoryGrowthAsync()
    {
        const int iterations = 200;
        using var pipeline = new ImagePipeline(new ImagingOptions { Sizes = [32, 64], MasterSize = 64 });
        var valid = TestImages.SolidJpeg(200, 150, TestImages.Green);
        using var alphaImage = TestImages.Canvas(64, 64, [10, 20, 30, 128]);
        var alpha = TestImages.Png(alphaImage);
        var truncated = TestImages.Noise(300, 200)[..2000];
        var svg = Encoding.UTF8.GetBytes("<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
        var huge = TestImages.PngHeaderOnly(50_000, 50_000);

        async Task Batch(int n)
        {
            for (var i = 0; i < n; i++)
            {
                try
                {
                    switch (i % 6)
                    {
                        case 0: await pipeline.NormalizeAsync(valid); break;
                        case 1: await pipeline.StageAsync(alpha); break;
                        case 2: await pipeline.NormalizeAsync(truncated); break;
                        case 3: await pipeline.NormalizeAsync(svg); break;
                        case 4: await pipeline.NormalizeAsync(huge); break;
                        case 5: await pipeline.NormalizeAsync(valid, new CropRect(10, 10, 100, 100)); break;
                    }
                }
                catch (ImageRejectedException) { }
            }
        }

        await Batch(30); // warm-up
        Collect();
        var managedBefore = GC.GetTotalMemory(true);
        var vipsBefore = NetVips.Stats.Mem;
        var rssBefore = Process.GetCurrentProcess().WorkingSet64;
        await Batch(iterations);
        Collect();
        const double mb = 1024 * 1024;
        using var self = Process.GetCurrentProcess();
        return ((GC.GetTotalMemory(true) - managedBefore) / mb, (NetVips.Stats.Mem - vipsBefore) / mb,
            (self.WorkingSet64 - rssBefore) / mb, rssBefore / mb, iterations);
    }

    private static void Collect()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
    }

    private static async Task ExpectTooManyPixels(Func<Task> action)
    {
        try { await action(); }
        catch (ImageRejectedException e) when (e.Kind == RejectionKind.TooManyPixels) { return; }
        throw new InvalidOperationException("a huge header was not refused");
    }

    private static async Task<double> TimeAsync(Func<Task> action)
    {
        var sw = Stopwatch.StartNew();
        await action();
        return sw.Elapsed.TotalMilliseconds;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}

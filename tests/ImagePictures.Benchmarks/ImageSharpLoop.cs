using System.Diagnostics;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Webp;
using SixLabors.ImageSharp.PixelFormats;
using SixLabors.ImageSharp.Processing;

namespace ImagePictures.Benchmarks;

/// <summary>
/// The managed peer of the ingest pipeline, for comparison only (the service never references
/// ImageSharp): ImageSharp 2.1's closest equivalent of <c>ImagePipeline.NormalizeAsync</c> — decode,
/// auto-orient, centre crop to a 512 square (libvips picks the crop by "attention"), drop metadata,
/// a JPEG Q85 master, then every size as WebP Q80 and JPEG Q85, resized from the master. ImageSharp
/// 2.1 has no shrink-on-load, so the whole 12 MP bitmap is decoded; it converts no ICC profile.
/// </summary>
public static class ImageSharpLoop
{
    private static readonly int[] Sizes = [32, 64, 128, 256, 512];
    private static readonly JpegEncoder Jpeg = new() { Quality = 85 };
    private static readonly WebpEncoder Webp = new() { FileFormat = WebpFileFormatType.Lossy, Quality = 80 };

    /// <summary>One normalisation; returns the total bytes written (so that nothing is optimised away).</summary>
    public static long Normalize(byte[] jpeg)
    {
        using var image = Image.Load<Rgb24>(jpeg);
        image.Mutate(x => x.AutoOrient());
        var side = Math.Min(image.Width, image.Height);
        image.Mutate(x => x.Crop(new Rectangle((image.Width - side) / 2, (image.Height - side) / 2, side, side)).Resize(512, 512));
        image.Metadata.ExifProfile = null;
        image.Metadata.IccProfile = null;
        image.Metadata.XmpProfile = null;
        image.Metadata.IptcProfile = null;
        long total = Save(image, Jpeg);
        foreach (var size in Sizes)
        {
            using var variant = size == 512 ? null : image.Clone(x => x.Resize(size, size));
            var img = variant ?? image;
            total += Save(img, Webp) + Save(img, Jpeg);
        }
        return total;
    }

    private static long Save(Image image, SixLabors.ImageSharp.Formats.IImageEncoder encoder)
    {
        using var output = new MemoryStream();
        image.Save(output, encoder);
        return output.Length;
    }

    public static async Task<Ingest.LoopResult> LoopAsync(string jpegPath, double seconds, int threads, double warmupSeconds)
    {
        var jpeg = await File.ReadAllBytesAsync(jpegPath);
        await Ingest.LoopAsync(threads, warmupSeconds, (_, _) => Task.Run(() => Normalize(jpeg)));
        var (count, elapsed, latencies) = await Ingest.LoopAsync(threads, seconds, (_, _) => Task.Run(() => Normalize(jpeg)));
        return Ingest.Report(count, elapsed, latencies, errors: 0);
    }

    /// <summary>Peak RSS of this process while it normalises <paramref name="concurrent"/> copies of the image at once.</summary>
    public static async Task<Ingest.MemoryResult> MemoryAsync(string jpegPath, int concurrent)
    {
        var jpeg = await File.ReadAllBytesAsync(jpegPath);
        Normalize(jpeg); // load the code and the pools once, as a running service has
        GC.Collect();
        var pid = Environment.ProcessId;
        var before = Ingest.Status(pid);
        var reset = Ingest.TryResetPeak(pid);
        var sw = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, concurrent).Select(_ => Task.Run(() => Normalize(jpeg))));
        var after = Ingest.Status(pid);
        return new Ingest.MemoryResult(after.HwmKb / 1024.0, before.RssKb / 1024.0, after.RssKb / 1024.0, concurrent, 0, sw.Elapsed.TotalSeconds, reset);
    }
}

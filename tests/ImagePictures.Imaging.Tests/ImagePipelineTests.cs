using System.Diagnostics;
using System.Text;
using NetVips;
using static ImagePictures.Testing.TestImages;

namespace ImagePictures.Imaging.Tests;

[Trait("Category", "Unit")]
public sealed class ImagePipelineTests : IDisposable
{
    private static readonly int[] DefaultSizes = [32, 64, 128, 256, 512];
    private readonly ImagePipeline _pipeline = new(new ImagingOptions());

    public void Dispose() => _pipeline.Dispose();

    // ------------------------------------------------------------ basics

    [Fact]
    public void LibvipsVersion_IsReported()
    {
        Assert.Matches(@"^8\.\d+\.\d+", ImagePipeline.LibvipsVersion);
    }

    [Fact]
    public void SelfCheck_Passes() => Assert.True(_pipeline.SelfCheck());

    [Theory]
    [InlineData("32.webp", "image/webp")]
    [InlineData("master.jpg", "image/jpeg")]
    [InlineData("64.png", "image/png")]
    [InlineData("STAGED.JPG", "image/jpeg")]
    public void ContentTypeFor_MapsExtensions(string name, string expected) =>
        Assert.Equal(expected, ImagePipeline.ContentTypeFor(name));

    // ------------------------------------------------------------ formats

    public static TheoryData<string> Formats() => new() { "jpeg", "png", "webp", "gif", "heic", "avif" };

    private static byte[]? Encode(string format, Image img) => format switch
    {
        "jpeg" => Jpeg(img),
        "png" => Png(img),
        "webp" => WebP(img),
        "gif" => Gif(img),
        "heic" => HeifSaveAvailable ? TryHeif(img, Enums.ForeignHeifCompression.Hevc) : null,
        "avif" => HeifSaveAvailable ? TryHeif(img, Enums.ForeignHeifCompression.Av1) : null,
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    private static byte[]? TryHeif(Image img, Enums.ForeignHeifCompression compression)
    {
        try { return Heif(img, compression); }
        catch (InvalidOperationException) { return null; } // encoder plugin missing
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task EveryFormat_ComesOutSquareAtEverySize(string format)
    {
        using var img = Split(300, 200, Red, Blue);
        var input = Encode(format, img);
        if (input is null) return; // saver not available in this libvips build

        var probe = _pipeline.Probe(input);
        Assert.Equal((300, 200), (probe.Width, probe.Height));
        Assert.Equal(format switch { "jpeg" => ImageFormat.Jpeg, "png" => ImageFormat.Png, "webp" => ImageFormat.WebP, "gif" => ImageFormat.Gif, _ => ImageFormat.Heif }, probe.Format);

        var result = await _pipeline.NormalizeAsync(input);
        Assert.Equal(512, result.Width);
        Assert.Equal(512, result.Height);
        Assert.False(result.HasAlpha);
        Assert.Equal("master.jpg", result.Master.FileName);
        Assert.Equal("image/jpeg", result.Master.ContentType);
        Assert.Equal((512, 512, 3), Size(result.Master.Bytes));

        Assert.Equal(DefaultSizes.Length * 2, result.Files.Count);
        foreach (var size in DefaultSizes)
        {
            var webp = Assert.Single(result.Files, f => f.FileName == $"{size}.webp");
            var jpg = Assert.Single(result.Files, f => f.FileName == $"{size}.jpg");
            Assert.Equal("image/webp", webp.ContentType);
            Assert.Equal("image/jpeg", jpg.ContentType);
            Assert.True(webp.Bytes.AsSpan().StartsWith("RIFF"u8));
            Assert.True(jpg.Bytes.AsSpan().StartsWith(new byte[] { 0xFF, 0xD8, 0xFF }));
            Assert.Equal((size, size), (Size(webp.Bytes).W, Size(webp.Bytes).H));
            Assert.Equal((size, size), (Size(jpg.Bytes).W, Size(jpg.Bytes).H));
        }
    }

    [Fact]
    public async Task SmallImage_IsUpscaledToMaster()
    {
        var result = await _pipeline.NormalizeAsync(SolidJpeg(40, 50, Green));
        Assert.Equal((512, 512, 3), Size(result.Master.Bytes));
        using var master = Decode(result.Master.Bytes);
        AssertColour(Green, Pixel(master, 256, 256));
    }

    [Fact]
    public void HeifLoader_AvailabilityMatchesLibvips()
    {
        // Informational: this environment's libvips 8.14 ships the heif module.
        Assert.Equal(ImagePipeline.HeifAvailable, NetVips.NetVips.TypeFind("VipsOperation", "heifload_buffer") != IntPtr.Zero);
    }

    [Fact]
    public async Task DefaultAvatar_IsValid512Png()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "images", "default", "default.png"))) dir = dir.Parent;
        Assert.NotNull(dir);
        var bytes = await File.ReadAllBytesAsync(Path.Combine(dir!.FullName, "images", "default", "default.png"));
        Assert.True(bytes.Length < 30_000);
        Assert.Equal(new ImageProbe(ImageFormat.Png, 512, 512), _pipeline.Probe(bytes));
        var result = await _pipeline.NormalizeAsync(bytes);
        Assert.False(result.HasAlpha);
        Assert.Equal(10, result.Files.Count);
    }

    // ------------------------------------------------------------ orientation

    [Fact]
    public async Task ExifOrientation6_IsApplied()
    {
        // 400x200, left half red. Orientation 6 = rotate 90° clockwise for display: red ends up on top.
        using var split = Split(400, 200, Red, Blue);
        using var img = WithInt(split, "orientation", 6);
        var input = Jpeg(img);
        Assert.True(Contains(input, "Exif"));

        var staged = await _pipeline.StageAsync(input);
        Assert.Equal((200, 400), (staged.Width, staged.Height));
        using (var s = Decode(staged.Image.Bytes))
        {
            Assert.Equal(200, s.Width);
            AssertColour(Red, Pixel(s, 100, 20));
            AssertColour(Blue, Pixel(s, 100, 380));
        }

        // Square input so the attention crop cannot hide the rotation.
        using var splitSquare = Split(400, 400, Red, Blue);
        using var square = WithInt(splitSquare, "orientation", 6);
        var normalized = await _pipeline.NormalizeAsync(Jpeg(square));
        using var m = Decode(normalized.Master.Bytes);
        AssertColour(Red, Pixel(m, 256, 40));
        AssertColour(Red, Pixel(m, 40, 100));
        AssertColour(Blue, Pixel(m, 256, 470));
        AssertColour(Blue, Pixel(m, 470, 400));
    }

    // ------------------------------------------------------------ metadata

    [Fact]
    public async Task PersonalMetadata_IsStrippedFromEveryOutput()
    {
        using var img = Split(320, 240, Red, Blue);
        var input = InsertSegments(JpegWithIcc(img), (0xE1, ExifWithGps()), (0xE1, XmpPayload()));
        foreach (var marker in new[] { "Exif", "GPS", "secret-location", "http://ns.adobe.com/xap", "ICC_PROFILE" })
            Assert.True(Contains(input, marker), $"test input should contain {marker}");

        var result = await _pipeline.NormalizeAsync(input);
        var staged = await _pipeline.StageAsync(input);
        var outputs = result.Files.Append(result.Master).Append(staged.Image).ToList();
        Assert.Equal(12, outputs.Count);
        foreach (var file in outputs)
        foreach (var marker in new[] { "Exif", "EXIF", "GPS", "secret-location", "http://ns.adobe.com/xap", "XMP ", "ICC_PROFILE", "iCCP", "ICCP", "eXIf", "iTXt", "tEXt", "zTXt" })
            Assert.False(Contains(file.Bytes, marker), $"{file.FileName} contains {marker}");
    }

    // ------------------------------------------------------------ alpha

    [Fact]
    public async Task TransparentPng_GetsPngFallbacks()
    {
        using var clear = Canvas(300, 300, [0, 0, 0, 0]);
        using var img = WithCircle(clear, [200, 30, 30, 255], 150, 150, 100);
        var input = Png(img);

        var result = await _pipeline.NormalizeAsync(input);
        Assert.True(result.HasAlpha);
        Assert.Equal("master.png", result.Master.FileName);
        Assert.Equal("image/png", result.Master.ContentType);
        Assert.Equal((512, 512, 4), Size(result.Master.Bytes));
        foreach (var size in DefaultSizes)
        {
            var png = Assert.Single(result.Files, f => f.FileName == $"{size}.png");
            Assert.Equal("image/png", png.ContentType);
            Assert.Equal((size, size, 4), Size(png.Bytes));
            var webp = Assert.Single(result.Files, f => f.FileName == $"{size}.webp");
            Assert.Equal(4, Size(webp.Bytes).Bands);
        }
        Assert.DoesNotContain(result.Files, f => f.FileName.EndsWith(".jpg"));

        var staged = await _pipeline.StageAsync(input);
        Assert.True(staged.HasAlpha);
        Assert.Equal("staged.png", staged.Image.FileName);
        Assert.Equal((300, 300, 4), Size(staged.Image.Bytes));
    }

    [Fact]
    public async Task TransparentGif_GetsPngFallbacks()
    {
        using var clear = Canvas(200, 200, [0, 0, 0, 0]);
        using var img = WithCircle(clear, [30, 30, 200, 255], 100, 100, 60);
        var result = await _pipeline.NormalizeAsync(Gif(img));
        Assert.True(result.HasAlpha);
        Assert.Equal("master.png", result.Master.FileName);
        Assert.Contains(result.Files, f => f.FileName == "128.png");
    }

    [Fact]
    public async Task GreyAnd16BitInputs_BecomeRgb8()
    {
        using var grey = Canvas(300, 300, [128]);
        var g = await _pipeline.NormalizeAsync(Jpeg(grey));
        Assert.Equal((512, 512, 3), Size(g.Master.Bytes));
        Assert.Equal(3, Size(g.Files[0].Bytes).Bands);

        var p16 = await _pipeline.NormalizeAsync(Png16(300, 300));
        Assert.False(p16.HasAlpha);
        Assert.Equal((512, 512, 3), Size(p16.Master.Bytes));
        using var m = Decode(p16.Master.Bytes);
        AssertColour(Red, Pixel(m, 40, 256));
        AssertColour(Blue, Pixel(m, 470, 256));
    }

    // ------------------------------------------------------------ rejections

    public static TheoryData<string, byte[]> UnsupportedInputs()
    {
        using var img = Canvas(20, 20, Green);
        return new()
        {
            { "svg", Encoding.UTF8.GetBytes("<?xml version=\"1.0\"?><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100\" height=\"100\"><circle cx=\"50\" cy=\"50\" r=\"40\"/></svg>") },
            { "svg-bare", Encoding.UTF8.GetBytes("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"></svg>") },
            { "pdf", Encoding.ASCII.GetBytes("%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n") },
            { "tiff", Tiff(img) },
            { "html", Encoding.UTF8.GetBytes("<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>") },
            { "text", Encoding.UTF8.GetBytes("hello, this is not an image") },
            { "bmp", [(byte)'B', (byte)'M', 58, 0, 0, 0, 0, 0, 0, 0, 54, 0, 0, 0, 40, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 24, 0, 0, 0, 0, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 0] },
            { "empty", [] },
            { "ftyp-mp4", [0, 0, 0, 24, (byte)'f', (byte)'t', (byte)'y', (byte)'p', (byte)'i', (byte)'s', (byte)'o', (byte)'m', 0, 0, 2, 0, (byte)'i', (byte)'s', (byte)'o', (byte)'m', (byte)'m', (byte)'p', (byte)'4', (byte)'1'] },
        };
    }

    [Theory]
    [MemberData(nameof(UnsupportedInputs))]
    public async Task NonImages_AreUnsupported(string name, byte[] input)
    {
        var ex = Assert.Throws<ImageRejectedException>(() => _pipeline.Probe(input));
        Assert.Equal(RejectionKind.Unsupported, ex.Kind);
        Assert.False(string.IsNullOrWhiteSpace(ex.Message), name);
        Assert.DoesNotContain("/", ex.Message);

        var ex2 = await Assert.ThrowsAsync<ImageRejectedException>(() => _pipeline.NormalizeAsync(input));
        Assert.Equal(RejectionKind.Unsupported, ex2.Kind);
        var ex3 = await Assert.ThrowsAsync<ImageRejectedException>(() => _pipeline.StageAsync(input));
        Assert.Equal(RejectionKind.Unsupported, ex3.Kind);
    }

    [Fact]
    public void BlockedLoaders_AreRefusedByLibvipsItself()
    {
        // Even bypassing our sniffing, libvips must not run the TIFF (or SVG/PDF/magick) loaders.
        using var img = Canvas(20, 20, Green);
        var tiff = Tiff(img);
        Assert.Throws<InvalidOperationException>(() => Decode(tiff));
        Assert.Throws<InvalidOperationException>(() => Decode(Encoding.UTF8.GetBytes("<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"10\" height=\"10\"></svg>")));
    }

    [Fact]
    public async Task TruncatedJpeg_IsUndecodable()
    {
        var full = Noise(600, 400);
        var truncated = full[..(full.Length / 2)];
        var ex = await Assert.ThrowsAsync<ImageRejectedException>(() => _pipeline.NormalizeAsync(truncated));
        Assert.Equal(RejectionKind.Undecodable, ex.Kind);
        Assert.DoesNotContain("/", ex.Message);
        var ex2 = await Assert.ThrowsAsync<ImageRejectedException>(() => _pipeline.StageAsync(truncated));
        Assert.Equal(RejectionKind.Undecodable, ex2.Kind);
    }

    [Fact]
    public async Task RandomBytesAfterJpegHeader_AreUndecodable()
    {
        var rng = new Random(42);
        var input = new byte[4096];
        rng.NextBytes(input);
        input[0] = 0xFF; input[1] = 0xD8; input[2] = 0xFF; input[3] = 0xE0;
        var ex = await Assert.ThrowsAsync<ImageRejectedException>(() => _pipeline.NormalizeAsync(input));
        Assert.Equal(RejectionKind.Undecodable, ex.Kind);
    }

    [Fact]
    public async Task GarbagePngAndWebp_AreUndecodable()
    {
        byte[] png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3, 4, 5, 6, 7, 8, 9];
        byte[] webp = [.. "RIFF"u8, 100, 0, 0, 0, .. "WEBPVP8 "u8, 1, 2, 3, 4, 5];
        foreach (var input in new[] { png, webp })
        {
            var ex = await Assert.ThrowsAsync<ImageRejectedException>(() => _pipeline.NormalizeAsync(input));
            Assert.Equal(RejectionKind.Undecodable, ex.Kind);
        }
    }

    [Fact]
    public async Task HugeDimensions_AreRefusedBeforeDecoding()
    {
        var png = PngHeaderOnly(50_000, 50_000);
        var jpeg = JpegClaiming(60_000, 60_000);
        // Both files are a header and nothing else: had any pixel been decoded, the answer would be
        // Undecodable (no data), so TooManyPixels shows the refusal came from the header alone.
        foreach (var input in new[] { png, jpeg })
        {
            var ex = Assert.Throws<ImageRejectedException>(() => _pipeline.Probe(input));
            Assert.Equal(RejectionKind.TooManyPixels, ex.Kind);
            var ex2 = await Assert.ThrowsAsync<ImageRejectedException>(() => _pipeline.NormalizeAsync(input));
            Assert.Equal(RejectionKind.TooManyPixels, ex2.Kind);
            var ex3 = await Assert.ThrowsAsync<ImageRejectedException>(() => _pipeline.StageAsync(input));
            Assert.Equal(RejectionKind.TooManyPixels, ex3.Kind);
        }
    }

    [Fact]
    public void Probe_HeaderOnly_ReportsDimensions()
    {
        var probe = _pipeline.Probe(PngHeaderOnly(4000, 3000));
        Assert.Equal(new ImageProbe(ImageFormat.Png, 4000, 3000), probe);
        var small = new ImagePipeline(new ImagingOptions { MaxPixels = 1000 });
        Assert.Equal(RejectionKind.TooManyPixels, Assert.Throws<ImageRejectedException>(() => small.Probe(SolidJpeg(40, 30, Red))).Kind);
        Assert.Equal(ImageFormat.Jpeg, small.Probe(SolidJpeg(40, 25, Red)).Format);
    }

    [Fact]
    public async Task TrailingScript_IsAcceptedAndNotCopied()
    {
        var input = SolidJpeg(200, 200, Green).Concat(Encoding.ASCII.GetBytes("<script>alert(1)</script>")).ToArray();
        var result = await _pipeline.NormalizeAsync(input);
        var staged = await _pipeline.StageAsync(input);
        foreach (var f in result.Files.Append(result.Master).Append(staged.Image))
            Assert.False(Contains(f.Bytes, "<script"), f.FileName);
    }

    // ------------------------------------------------------------ crop

    [Fact]
    public async Task Crop_SelectsRegion()
    {
        using var img = Split(800, 400, Red, Blue);
        var input = Jpeg(img);

        var right = await _pipeline.NormalizeAsync(input, new CropRect(400, 0, 400, 400));
        using (var m = Decode(right.Master.Bytes))
        {
            Assert.Equal(512, m.Width);
            Assert.Equal(512, m.Height);
            AssertColour(Blue, Pixel(m, 256, 256));
            AssertColour(Blue, Pixel(m, 20, 20));
            AssertColour(Blue, Pixel(m, 490, 490));
        }

        var left = await _pipeline.NormalizeAsync(input, new CropRect(0, 0, 400, 400));
        using (var m = Decode(left.Master.Bytes))
            AssertColour(Red, Pixel(m, 256, 256));
        Assert.Equal(10, left.Files.Count);
    }

    [Theory]
    [InlineData(500, 0, 400, 400)]
    [InlineData(0, 100, 400, 400)]
    [InlineData(-1, 0, 100, 100)]
    [InlineData(0, 0, 31, 100)]
    [InlineData(0, 0, 100, 20)]
    [InlineData(0, 0, 0, 0)]
    [InlineData(int.MaxValue, 0, 100, 100)]
    public async Task Crop_OutsideOrTooSmall_Throws(int x, int y, int w, int h)
    {
        using var img = Split(800, 400, Red, Blue);
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => _pipeline.NormalizeAsync(Jpeg(img), new CropRect(x, y, w, h)));
    }

    // ------------------------------------------------------------ stage

    [Fact]
    public async Task Stage_ShrinksLargeImages()
    {
        var staged = await _pipeline.StageAsync(SolidJpeg(3000, 1000, Green));
        Assert.Equal(2048, staged.Width);
        Assert.InRange(staged.Height, 682, 684);
        Assert.False(staged.HasAlpha);
        Assert.Equal("staged.jpg", staged.Image.FileName);
        Assert.Equal("image/jpeg", staged.Image.ContentType);
        var (w, h, bands) = Size(staged.Image.Bytes);
        Assert.Equal((staged.Width, staged.Height, 3), (w, h, bands));
    }

    [Fact]
    public async Task Stage_DoesNotUpscale()
    {
        var staged = await _pipeline.StageAsync(SolidJpeg(120, 90, Green));
        Assert.Equal((120, 90), (staged.Width, staged.Height));
        Assert.Equal((120, 90, 3), Size(staged.Image.Bytes));
    }

    [Fact]
    public async Task StagedImage_CanBeCropped()
    {
        using var img = Split(1200, 600, Red, Blue);
        var staged = await _pipeline.StageAsync(Jpeg(img));
        var result = await _pipeline.NormalizeAsync(staged.Image.Bytes, new CropRect(700, 100, 300, 300));
        using var m = Decode(result.Master.Bytes);
        AssertColour(Blue, Pixel(m, 256, 256));
    }

    // ------------------------------------------------------------ concurrency

    [Fact]
    public async Task QueueFull_ThrowsBusy()
    {
        using var pipeline = new ImagePipeline(new ImagingOptions { MaxConcurrency = 1, MaxQueued = 0 });
        var big = Noise(3000, 2000);
        var first = pipeline.NormalizeAsync(big);
        await Assert.ThrowsAsync<ImagingBusyException>(() => pipeline.NormalizeAsync(big));
        await Assert.ThrowsAsync<ImagingBusyException>(() => pipeline.StageAsync(big));
        var result = await first;
        Assert.Equal(512, result.Width);
        // capacity is released afterwards
        var again = await pipeline.StageAsync(SolidJpeg(50, 50, Red));
        Assert.Equal(50, again.Width);
    }

    [Fact]
    public async Task QueuedJobs_WaitAndHonourCancellation()
    {
        using var pipeline = new ImagePipeline(new ImagingOptions { MaxConcurrency = 1, MaxQueued = 1 });
        var big = Noise(3000, 2000);
        using var cts = new CancellationTokenSource();
        var first = pipeline.NormalizeAsync(big);
        var queued = pipeline.StageAsync(big, cts.Token);
        await Assert.ThrowsAsync<ImagingBusyException>(() => pipeline.NormalizeAsync(big));
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => queued);
        await first;
        var waited = await Task.WhenAll(pipeline.StageAsync(SolidJpeg(64, 64, Red)), pipeline.StageAsync(SolidJpeg(64, 64, Blue)));
        Assert.All(waited, s => Assert.Equal(64, s.Width));
    }

    [Fact]
    public async Task ParallelJobs_Succeed()
    {
        using var pipeline = new ImagePipeline(new ImagingOptions { MaxConcurrency = 2, MaxQueued = 16 });
        var inputs = Enumerable.Range(0, 8).Select(i => SolidJpeg(100 + i * 10, 80, i % 2 == 0 ? Red : Blue)).ToArray();
        var results = await Task.WhenAll(inputs.Select(b => pipeline.NormalizeAsync(b)));
        Assert.All(results, r => Assert.Equal(10, r.Files.Count));
    }

    // ------------------------------------------------------------ leaks

    [Fact]
    public async Task ManyIterations_DoNotLeak()
    {
        using var pipeline = new ImagePipeline(new ImagingOptions { Sizes = [32, 64], MasterSize = 64 });
        var valid = SolidJpeg(200, 150, Green);
        using var alphaImg = Canvas(64, 64, [10, 20, 30, 128]);
        var alpha = Png(alphaImg);
        var truncated = Noise(300, 200)[..2000];
        var svg = Encoding.UTF8.GetBytes("<svg xmlns=\"http://www.w3.org/2000/svg\"/>");
        var huge = PngHeaderOnly(50_000, 50_000);

        async Task RunBatch(int n)
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

        // Behaviour, not a budget: after 200 mixed runs (successes, crops, refusals) every buffer and file
        // libvips handed out has been given back, so its counts are where they were. (How much memory a run
        // takes is the benchmark's business.)
        await RunBatch(30); // warm-up
        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
        var before = (Allocations: Stats.Allocations, Bytes: Stats.Mem, Files: Stats.Files);

        await RunBatch(200);

        GC.Collect(); GC.WaitForPendingFinalizers(); GC.Collect();
        var after = (Allocations: Stats.Allocations, Bytes: Stats.Mem, Files: Stats.Files);
        Assert.Equal(before, after);
    }
}

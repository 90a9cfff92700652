using System.Globalization;
using NetVips;
using Vips = NetVips.NetVips;

namespace ImagePictures.Imaging;

public sealed class ImagePipeline : IDisposable
{
    private static readonly object InitLock = new();
    private static bool _initialized;
    private static bool _heifAvailable;

    // libvips 8.14's thumbnail ignores the typed failOn argument; the loader option string reaches the loader.
    private const string LoadOptions = "fail_on=truncated";

    private readonly ImagingOptions _options;
    private readonly SemaphoreSlim _slots;
    private readonly int _maxAdmitted;
    private int _admitted;
    // Freed libvips memory goes back to the OS once the pipeline has been idle for a second. Trimming right
    // after every job made the next one fault all its pages in again (8% of ingest throughput in the benchmark).
    private static readonly TimeSpan TrimAfterIdle = TimeSpan.FromSeconds(1);
    private readonly Timer _idleTrim;
    private bool _disposed;

    public ImagePipeline(ImagingOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.MasterSize < 1) throw new ArgumentOutOfRangeException(nameof(options), "MasterSize must be positive.");
        if (options.StageMaxSide < 1) throw new ArgumentOutOfRangeException(nameof(options), "StageMaxSide must be positive.");
        if (options.MaxQueued < 0) throw new ArgumentOutOfRangeException(nameof(options), "MaxQueued must not be negative.");
        _options = options;
        Files = new PictureFiles(options.Sizes);
        var concurrency = options.MaxConcurrency > 0 ? options.MaxConcurrency : Environment.ProcessorCount;
        _slots = new SemaphoreSlim(concurrency, concurrency);
        _maxAdmitted = concurrency + options.MaxQueued;
        _idleTrim = new Timer(_ => { if (Volatile.Read(ref _admitted) == 0) NativeHeap.Trim(); });
        EnsureInitialized();
    }

    /// <summary>The names of the files <see cref="NormalizeAsync"/> makes of a picture.</summary>
    public PictureFiles Files { get; }

    /// <summary>e.g. "8.14.1". Throws <see cref="DllNotFoundException"/> when libvips is missing.</summary>
    public static string LibvipsVersion
    {
        get
        {
            EnsureInitialized();
            return string.Create(CultureInfo.InvariantCulture, $"{Vips.Version(0)}.{Vips.Version(1)}.{Vips.Version(2)}");
        }
    }

    internal static bool HeifAvailable
    {
        get { EnsureInitialized(); return _heifAvailable; }
    }

    internal static void EnsureInitialized()
    {
        if (Volatile.Read(ref _initialized)) return;
        lock (InitLock)
        {
            if (_initialized) return;
            // NetVips loads the system libvips (Debian's libvips42) and initialises it when its assembly loads.
            if (!ModuleInitializer.VipsInitialized)
                throw new DllNotFoundException("libvips could not be loaded (install libvips42).", ModuleInitializer.Exception);

            // Only our five loaders may run; everything else (svg, pdf, tiff, magick, ...) is refused by libvips itself.
            // BlockUntrusted alone would leave TIFF open.
            Vips.BlockUntrusted = true;
            Operation.Block("VipsForeignLoad", true);
            foreach (var loader in new[] { "VipsForeignLoadJpeg", "VipsForeignLoadPng", "VipsForeignLoadWebp", "VipsForeignLoadNsgif", "VipsForeignLoadHeif" })
                Operation.Block(loader, false);

            // No operation cache: our inputs are one-shot, and a cache would keep input buffers alive.
            Cache.Max = 0;
            Cache.MaxMem = 0;
            Cache.MaxFiles = 0;
            Vips.Concurrency = 1;
            NativeHeap.LimitArenas();

            _heifAvailable = Vips.TypeFind("VipsOperation", "heifload_source") != IntPtr.Zero;
            Volatile.Write(ref _initialized, true);
        }
    }

    /// <summary>Encodes and decodes a tiny image; true when libvips works.</summary>
    public bool SelfCheck()
    {
        try
        {
            using var black = Image.Black(8, 8, bands: 3);
            var probe = Probe(SaveJpeg(black, 80));
            return probe is { Format: ImageFormat.Jpeg, Width: 8, Height: 8 };
        }
        catch (Exception)
        {
            return false;
        }
    }

    /// <summary>Header-only inspection; never decodes pixels.</summary>
    public ImageProbe Probe(ReadOnlySpan<byte> data)
    {
        EnsureInitialized();
        var format = SniffSupported(data);
        return WithBytes(data, bytes => Probe(format, bytes));
    }

    private ImageFormat SniffSupported(ReadOnlySpan<byte> data)
    {
        var format = FormatSniffer.Sniff(data);
        if (format is null || (format == ImageFormat.Heif && !_heifAvailable))
            throw new ImageRejectedException(RejectionKind.Unsupported,
                "This file type is not supported. Please upload a JPEG, PNG, WebP, GIF, HEIC or AVIF image.");
        return format.Value;
    }

    private ImageProbe Probe(ImageFormat format, PinnedBytes bytes)
    {
        int width, height;
        using (var source = bytes.Open())
        using (var header = Decoding(() => Image.NewFromSource(source, access: Enums.Access.Sequential, failOn: Enums.FailOn.Truncated)))
            (width, height) = (header.Width, header.Height);
        if (width <= 0 || height <= 0) throw Undecodable();
        if ((long)width * height > _options.MaxPixels)
            throw new ImageRejectedException(RejectionKind.TooManyPixels,
                string.Create(CultureInfo.InvariantCulture, $"The image is too large ({width}x{height} pixels). Please upload an image with at most {_options.MaxPixels:N0} pixels."));
        // Cropping to a square first scales the short side to the master size, so a 65535x1 image (or a header
        // claiming one) would become a 33-million-pixel-wide intermediate and exhaust memory. Avatars that
        // lopsided are refused before any pixel is decoded.
        if (Math.Max(width, height) > (long)Math.Min(width, height) * MaxAspectRatio)
            throw new ImageRejectedException(RejectionKind.TooManyPixels,
                string.Create(CultureInfo.InvariantCulture, $"The image is {width}x{height} pixels; a picture may be at most {MaxAspectRatio} times wider than tall (or taller than wide). Please crop it first."));
        return new ImageProbe(format, width, height);
    }

    /// <summary>Longest side / shortest side accepted by <see cref="Probe(ReadOnlySpan{byte})"/>.</summary>
    public const int MaxAspectRatio = 50;

    /// <summary>The caller keeps <paramref name="data"/> unchanged until the task completes.</summary>
    public Task<NormalizedPicture> NormalizeAsync(ReadOnlyMemory<byte> data, CropRect? crop = null, CancellationToken ct = default) =>
        RunAsync(() => Normalize(data.Span, crop), ct);

    /// <summary>The caller keeps <paramref name="data"/> unchanged until the task completes.</summary>
    public Task<StagedImage> StageAsync(ReadOnlyMemory<byte> data, CancellationToken ct = default) =>
        RunAsync(() => Stage(data.Span), ct);

    public static string ContentTypeFor(string fileName)
    {
        var ext = Path.GetExtension(fileName).ToLowerInvariant();
        return ext switch
        {
            ".webp" => "image/webp",
            ".jpg" or ".jpeg" => "image/jpeg",
            ".png" => "image/png",
            ".gif" => "image/gif",
            ".avif" => "image/avif",
            ".heic" or ".heif" => "image/heic",
            _ => "application/octet-stream",
        };
    }

    public void Dispose()
    {
        // New jobs are refused; running jobs finish normally. The semaphore holds no wait handle, so it is not disposed
        // (disposing it under running jobs would make their Release() throw); neither is the trim timer, for the same reason.
        _disposed = true;
    }

    // ---------------------------------------------------------------- scheduling

    private Task<T> RunAsync<T>(Func<T> work, CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ct.ThrowIfCancellationRequested();
        // Admission is decided synchronously so a full queue is reported immediately.
        if (Interlocked.Increment(ref _admitted) > _maxAdmitted)
        {
            Interlocked.Decrement(ref _admitted);
            throw new ImagingBusyException();
        }
        return RunAdmittedAsync(work, ct);
    }

    private async Task<T> RunAdmittedAsync<T>(Func<T> work, CancellationToken ct)
    {
        try
        {
            await _slots.WaitAsync(ct).ConfigureAwait(false);
            try
            {
                return await Task.Run(work, ct).ConfigureAwait(false);
            }
            finally
            {
                _slots.Release();
                if (Volatile.Read(ref _admitted) == 1) _idleTrim.Change(TrimAfterIdle, Timeout.InfiniteTimeSpan);
            }
        }
        finally
        {
            Interlocked.Decrement(ref _admitted);
        }
    }

    // ---------------------------------------------------------------- jobs

    private NormalizedPicture Normalize(ReadOnlySpan<byte> data, CropRect? crop)
    {
        var format = SniffSupported(data);
        var size = _options.MasterSize;
        // The master is a copy in memory, so it may outlive the caller's bytes.
        using var master = WithBytes(data, bytes =>
        {
            Probe(format, bytes);
            return crop is null ? LoadSquare(bytes, size) : LoadCropped(bytes, crop, size);
        });
        var hasAlpha = master.HasAlpha();

        var masterFile = Encode(PictureFiles.Master(hasAlpha), PictureFiles.MasterFormat(hasAlpha), master);

        var files = new List<EncodedFile>(Files.Count - 1);
        foreach (var s in Files.Sizes)
        {
            using var variant = s == size ? null : Resize(master, s);
            var img = variant ?? master;
            foreach (var variantFormat in PictureFiles.VariantFormats)
                files.Add(Encode(PictureFiles.Variant(s, variantFormat, hasAlpha), PictureFiles.Format(variantFormat, hasAlpha), img));
        }
        return new NormalizedPicture(size, size, hasAlpha, masterFile, files);
    }

    private StagedImage Stage(ReadOnlySpan<byte> data)
    {
        var format = SniffSupported(data);
        using var image = WithBytes(data, bytes =>
        {
            Probe(format, bytes);
            using var source = bytes.Open();
            using var thumb = Decoding(() => Image.ThumbnailSource(source, _options.StageMaxSide, LoadOptions,
                height: _options.StageMaxSide, size: Enums.Size.Down));
            return ToSrgbInMemory(thumb);
        });
        var hasAlpha = image.HasAlpha();
        var file = hasAlpha
            ? new EncodedFile("staged.png", "image/png", SavePng(image))
            : new EncodedFile("staged.jpg", "image/jpeg", SaveJpeg(image, 90));
        return new StagedImage(image.Width, image.Height, hasAlpha, file, SuggestCrop(image));
    }

    /// <summary>
    /// The square a commit without a crop keeps (the attention crop), in the staged image's pixels: libvips
    /// centres the square on the point of attention, kept inside the image.
    /// </summary>
    private static CropRect SuggestCrop(Image image)
    {
        var side = Math.Min(image.Width, image.Height);
        if (image.Width == image.Height) return new CropRect(0, 0, side, side);
        int attentionX = 0, attentionY = 0;
        using (Decoding(() => image.Smartcrop(side, side, out attentionX, out attentionY, Enums.Interesting.Attention))) { }
        var x = Math.Clamp(attentionX - side / 2, 0, image.Width - side);
        var y = Math.Clamp(attentionY - side / 2, 0, image.Height - side);
        return new CropRect(x, y, side, side);
    }

    /// <summary>Shrink-on-load thumbnail to a size x size square (attention crop, upscales small images), sRGB, in memory.</summary>
    private static Image LoadSquare(PinnedBytes bytes, int size)
    {
        using var source = bytes.Open();
        using var thumb = Decoding(() => Image.ThumbnailSource(source, size, LoadOptions, height: size, crop: Enums.Interesting.Attention));
        return ToSrgbInMemory(thumb);
    }

    /// <summary>The master that normalisation makes of <paramref name="data"/>, for the micro benchmarks.</summary>
    internal static Image LoadSquare(ReadOnlySpan<byte> data, int size) => WithBytes(data, bytes => LoadSquare(bytes, size));

    private static Image LoadCropped(PinnedBytes bytes, CropRect crop, int size)
    {
        using var source = bytes.Open();
        using var loaded = Decoding(() => Image.NewFromSource(source, access: Enums.Access.Random, failOn: Enums.FailOn.Truncated));
        using var rotated = Decoding(loaded.Autorot);
        var (w, h) = (rotated.Width, rotated.Height);
        if (crop.Width < 32 || crop.Height < 32 || crop.X < 0 || crop.Y < 0 ||
            (long)crop.X + crop.Width > w || (long)crop.Y + crop.Height > h)
            throw new ArgumentOutOfRangeException(nameof(crop),
                $"The crop rectangle must lie inside the {w}x{h} image and be at least 32x32 pixels.");
        using var area = Decoding(() => rotated.ExtractArea(crop.X, crop.Y, crop.Width, crop.Height));
        using var thumb = Decoding(() => area.ThumbnailImage(size, height: size, crop: Enums.Interesting.Attention));
        return ToSrgbInMemory(thumb);
    }

    /// <summary>
    /// Converts to 8-bit sRGB (keeping a real alpha channel, dropping a fully opaque one), renders it (decode errors
    /// surface here) and rebuilds a pristine memory image from the raw pixels, so no metadata at all (EXIF, XMP, ICC,
    /// IPTC, comments) can reach an encoder. 8.14's webpsave ignores strip, so we cannot rely on stripping alone.
    /// </summary>
    private static unsafe Image ToSrgbInMemory(Image image)
    {
        using var srgb = Decoding(() => image.Colourspace(Enums.Interpretation.Srgb));
        using var cast = srgb.Format == Enums.BandFormat.Uchar ? null : Decoding(() => srgb.Cast(Enums.BandFormat.Uchar));
        var current = cast ?? srgb;
        var (width, height, bands) = (current.Width, current.Height, current.Bands);
        var hasAlpha = current.HasAlpha();
        ulong size = 0;
        var raw = Decoding(() => current.WriteToMemory(out size));
        try
        {
            if ((ulong)width * (ulong)height * (ulong)bands != size)
                throw new VipsException("unexpected pixel buffer size");
            var pixels = new Span<byte>((void*)raw, checked((int)size));
            if (hasAlpha && AlphaIsOpaque(pixels, bands))
            {
                DropLastBand(pixels, bands);
                bands--;
                size = (ulong)width * (ulong)height * (ulong)bands;
            }
            using var fresh = Image.NewFromMemoryCopy(raw, size, width, height, bands, Enums.BandFormat.Uchar);
            return fresh.Copy(interpretation: Enums.Interpretation.Srgb);
        }
        finally
        {
            Vips.Free(raw);
        }
    }

    private static bool AlphaIsOpaque(ReadOnlySpan<byte> pixels, int bands)
    {
        for (var i = bands - 1; i < pixels.Length; i += bands)
            if (pixels[i] != 255) return false;
        return true;
    }

    private static void DropLastBand(Span<byte> pixels, int bands)
    {
        var w = 0;
        for (var r = 0; r < pixels.Length; r += bands)
            for (var b = 0; b < bands - 1; b++)
                pixels[w++] = pixels[r + b];
    }

    private static Image Resize(Image master, int size) =>
        master.ThumbnailImage(size, height: size, crop: Enums.Interesting.Centre);

    private static EncodedFile Encode(string name, FileFormat format, Image image) => new(name, PictureFiles.ContentType(format), format switch
    {
        FileFormat.Jpeg => SaveJpeg(image, 85),
        FileFormat.Png => SavePng(image),
        FileFormat.WebP => SaveWebp(image),
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    });

    private static byte[] SaveJpeg(Image image, int quality) =>
        image.JpegsaveBuffer(q: quality, optimizeCoding: true, interlace: false, keep: Enums.ForeignKeep.None);

    private static byte[] SavePng(Image image) =>
        image.PngsaveBuffer(compression: 6, keep: Enums.ForeignKeep.None);

    private static byte[] SaveWebp(Image image) =>
        WebpMetadata.Strip(image.WebpsaveBuffer(q: 80, keep: Enums.ForeignKeep.None));

    // ---------------------------------------------------------------- reading the caller's bytes and decode errors

    /// <summary>The caller's bytes, fixed in place while <see cref="WithBytes{T}"/> runs.</summary>
    private readonly unsafe struct PinnedBytes(byte* start, int length)
    {
        public Source Open() => new CallerBytesSource(start, length);
    }

    /// <summary>
    /// Runs <paramref name="read"/> over <paramref name="data"/> without copying it (6.6 MB for a 12 MP photo). The bytes
    /// stay fixed until <paramref name="read"/> returns, so it must dispose every source and image it opens from them
    /// before then, or return only images rendered into memory.
    /// </summary>
    private static unsafe T WithBytes<T>(ReadOnlySpan<byte> data, Func<PinnedBytes, T> read)
    {
        fixed (byte* start = data) return read(new PinnedBytes(start, data.Length));
    }

    /// <summary>
    /// Runs a step that reads the input. libvips reports a failure as <see cref="VipsException"/>, whose text may
    /// carry stale messages of other images: the input's format and dimensions were settled before (sniffing and
    /// the header), so any failure here means the file cannot be decoded.
    /// </summary>
    private static T Decoding<T>(Func<T> step)
    {
        try { return step(); }
        catch (VipsException e) { throw Undecodable(e); }
    }

    private static ImageRejectedException Undecodable(Exception? cause = null) =>
        new(RejectionKind.Undecodable, "The image could not be read; the file may be damaged or incomplete. Please upload it again or try another image.", cause);
}

using System.Runtime.InteropServices;
using static ImagePictures.Imaging.Native;

namespace ImagePictures.Imaging;

public sealed class ImagePipeline : IDisposable
{
    private static readonly object InitLock = new();
    private static bool _initialized;
    private static bool _heifAvailable;

    // Note: in 8.14 the thumbnail "fail_on" property does not reach the loader; the option string does.
    private const string LoadOptions = "[fail_on=truncated]";

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
        if (options.Sizes is null || options.Sizes.Length == 0 || options.Sizes.Any(s => s < 1))
            throw new ArgumentOutOfRangeException(nameof(options), "Sizes must be a non-empty list of positive sizes.");
        if (options.StageMaxSide < 1) throw new ArgumentOutOfRangeException(nameof(options), "StageMaxSide must be positive.");
        if (options.MaxQueued < 0) throw new ArgumentOutOfRangeException(nameof(options), "MaxQueued must not be negative.");
        _options = options;
        var concurrency = options.MaxConcurrency > 0 ? options.MaxConcurrency : Environment.ProcessorCount;
        _slots = new SemaphoreSlim(concurrency, concurrency);
        _maxAdmitted = concurrency + options.MaxQueued;
        _idleTrim = new Timer(_ => { if (Volatile.Read(ref _admitted) == 0) NativeHeap.Trim(); });
        EnsureInitialized();
    }

    /// <summary>e.g. "8.14.1". Throws <see cref="DllNotFoundException"/> when libvips is missing.</summary>
    public static string LibvipsVersion => Marshal.PtrToStringUTF8(vips_version_string()) ?? "";

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
            if (vips_init("ImagePictures") != 0)
                throw new InvalidOperationException("libvips failed to initialise: " + TakeError());

            // Only our five buffer/source loaders may run; everything else (svg, pdf, tiff, magick, ...) is refused.
            vips_block_untrusted_set(1);
            vips_operation_block_set("VipsForeignLoad", 1);
            foreach (var cls in new[] { "VipsForeignLoadJpeg", "VipsForeignLoadPng", "VipsForeignLoadWebp", "VipsForeignLoadNsgif", "VipsForeignLoadHeif" })
                vips_operation_block_set(cls, 0);

            // No operation cache: our inputs are one-shot, and a cache would keep input buffers alive.
            vips_cache_set_max(0);
            vips_cache_set_max_mem(0);
            vips_cache_set_max_files(0);
            vips_concurrency_set(1);
            NativeHeap.LimitArenas();

            _heifAvailable = vips_type_find("VipsOperation", "heifload_buffer") != 0;
            vips_error_clear();
            Volatile.Write(ref _initialized, true);
        }
    }

    /// <summary>Encodes and decodes a tiny image; true when libvips works.</summary>
    public bool SelfCheck()
    {
        try
        {
            if (vips_black(out var black, 8, 8, "bands", 3, IntPtr.Zero) != 0) { TakeError(); return false; }
            using (black)
            {
                var jpeg = SaveJpeg(black, 80);
                var probe = Probe(jpeg);
                return probe is { Format: ImageFormat.Jpeg, Width: 8, Height: 8 };
            }
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
        return WithBlob(data, blob => Probe(format, blob));
    }

    private ImageFormat SniffSupported(ReadOnlySpan<byte> data)
    {
        var format = FormatSniffer.Sniff(data);
        if (format is null || (format == ImageFormat.Heif && !_heifAvailable))
            throw new ImageRejectedException(RejectionKind.Unsupported,
                "This file type is not supported. Please upload a JPEG, PNG, WebP, GIF, HEIC or AVIF image.");
        return format.Value;
    }

    private ImageProbe Probe(ImageFormat format, BlobHandle blob)
    {
        using var source = SourceFromBlob(blob);
        using var image = vips_image_new_from_source(source, "", "access", AccessSequential, "fail_on", FailOnTruncated, IntPtr.Zero);
        if (image.IsInvalid)
        {
            TakeError();
            throw Undecodable();
        }
        var width = vips_image_get_width(image);
        var height = vips_image_get_height(image);
        if (width <= 0 || height <= 0) throw Undecodable();
        if ((long)width * height > _options.MaxPixels)
            throw new ImageRejectedException(RejectionKind.TooManyPixels,
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"The image is too large ({width}x{height} pixels). Please upload an image with at most {_options.MaxPixels:N0} pixels."));
        // Cropping to a square first scales the short side to the master size, so a 65535x1 image (or a header
        // claiming one) would become a 33-million-pixel-wide intermediate and exhaust memory. Avatars that
        // lopsided are refused before any pixel is decoded.
        if (Math.Max(width, height) > (long)Math.Min(width, height) * MaxAspectRatio)
            throw new ImageRejectedException(RejectionKind.TooManyPixels,
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"The image is {width}x{height} pixels; a picture may be at most {MaxAspectRatio} times wider than tall (or taller than wide). Please crop it first."));
        return new ImageProbe(format, width, height);
    }

    /// <summary>Longest side / shortest side accepted by <see cref="Probe"/>.</summary>
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
        using var master = WithBlob(data, blob =>
        {
            Probe(format, blob);
            return crop is null ? LoadSquare(blob, size) : LoadCropped(blob, crop, size);
        });
        var hasAlpha = vips_image_hasalpha(master) != 0;

        var masterFile = hasAlpha
            ? new EncodedFile("master.png", "image/png", SavePng(master))
            : new EncodedFile("master.jpg", "image/jpeg", SaveJpeg(master, 85));

        var files = new List<EncodedFile>(_options.Sizes.Length * 2);
        foreach (var s in _options.Sizes)
        {
            using var variant = s == size ? null : Resize(master, s);
            var img = variant ?? master;
            files.Add(new EncodedFile($"{s}.webp", "image/webp", SaveWebp(img)));
            files.Add(hasAlpha
                ? new EncodedFile($"{s}.png", "image/png", SavePng(img))
                : new EncodedFile($"{s}.jpg", "image/jpeg", SaveJpeg(img, 85)));
        }
        return new NormalizedPicture(size, size, hasAlpha, masterFile, files);
    }

    private StagedImage Stage(ReadOnlySpan<byte> data)
    {
        var format = SniffSupported(data);
        return WithBlob(data, blob =>
        {
            Probe(format, blob);
            return StageFrom(blob);
        });
    }

    private StagedImage StageFrom(BlobHandle blob)
    {
        using var source = SourceFromBlob(blob);
        if (vips_thumbnail_source(source, out var thumb, _options.StageMaxSide,
                "height", _options.StageMaxSide, "size", SizeDown, "option_string", LoadOptions, IntPtr.Zero) != 0)
        {
            TakeError();
            throw Undecodable();
        }
        using (thumb)
        using (var image = ToSrgbInMemory(thumb))
        {
            var hasAlpha = vips_image_hasalpha(image) != 0;
            var file = hasAlpha
                ? new EncodedFile("staged.png", "image/png", SavePng(image))
                : new EncodedFile("staged.jpg", "image/jpeg", SaveJpeg(image, 90));
            return new StagedImage(vips_image_get_width(image), vips_image_get_height(image), hasAlpha, file);
        }
    }

    /// <summary>Shrink-on-load thumbnail to a size x size square (attention crop, upscales small images), sRGB, in memory.</summary>
    private static GObjectHandle LoadSquare(BlobHandle blob, int size)
    {
        using var source = SourceFromBlob(blob);
        if (vips_thumbnail_source(source, out var thumb, size,
                "height", size, "crop", InterestingAttention, "option_string", LoadOptions, IntPtr.Zero) != 0)
        {
            TakeError();
            throw Undecodable();
        }
        using (thumb)
            return ToSrgbInMemory(thumb);
    }

    private static GObjectHandle LoadCropped(BlobHandle blob, CropRect crop, int size)
    {
        using var source = SourceFromBlob(blob);
        using var loaded = vips_image_new_from_source(source, "", "access", AccessRandom, "fail_on", FailOnTruncated, IntPtr.Zero);
        if (loaded.IsInvalid)
        {
            TakeError();
            throw Undecodable();
        }
        if (vips_autorot(loaded, out var rotated, IntPtr.Zero) != 0)
        {
            TakeError();
            throw Undecodable();
        }
        using (rotated)
        {
            var w = vips_image_get_width(rotated);
            var h = vips_image_get_height(rotated);
            if (crop.Width < 32 || crop.Height < 32 || crop.X < 0 || crop.Y < 0 ||
                (long)crop.X + crop.Width > w || (long)crop.Y + crop.Height > h)
                throw new ArgumentOutOfRangeException(nameof(crop),
                    $"The crop rectangle must lie inside the {w}x{h} image and be at least 32x32 pixels.");
            if (vips_extract_area(rotated, out var area, crop.X, crop.Y, crop.Width, crop.Height, IntPtr.Zero) != 0)
            {
                TakeError();
                throw Undecodable();
            }
            using (area)
            {
                if (vips_thumbnail_image(area, out var thumb, size, "height", size, "crop", InterestingAttention, IntPtr.Zero) != 0)
                {
                    TakeError();
                    throw Undecodable();
                }
                using (thumb)
                    return ToSrgbInMemory(thumb);
            }
        }
    }

    /// <summary>
    /// Converts to 8-bit sRGB (keeping a real alpha channel, dropping a fully opaque one), renders it (decode errors
    /// surface here) and rebuilds a pristine memory image from the raw pixels, so no metadata at all (EXIF, XMP, ICC,
    /// IPTC, comments) can reach an encoder. 8.14.1's webpsave ignores strip=TRUE, so we cannot rely on strip alone.
    /// </summary>
    private static unsafe GObjectHandle ToSrgbInMemory(GObjectHandle image)
    {
        if (vips_colourspace(image, out var srgb, InterpretationSrgb, IntPtr.Zero) != 0)
        {
            TakeError();
            throw Undecodable();
        }
        using (srgb)
        {
            GObjectHandle? cast = null;
            try
            {
                var current = srgb;
                if (vips_image_get_format(srgb) != FormatUchar)
                {
                    if (vips_cast(srgb, out cast, FormatUchar, IntPtr.Zero) != 0)
                    {
                        TakeError();
                        throw Undecodable();
                    }
                    current = cast;
                }
                var width = vips_image_get_width(current);
                var height = vips_image_get_height(current);
                var bands = vips_image_get_bands(current);
                var hasAlpha = vips_image_hasalpha(current) != 0;
                var raw = vips_image_write_to_memory(current, out var size);
                if (raw == IntPtr.Zero)
                {
                    TakeError();
                    throw Undecodable();
                }
                try
                {
                    if ((long)width * height * bands != (long)size)
                        throw new VipsException("unexpected pixel buffer size");
                    var pixels = new Span<byte>((void*)raw, checked((int)size));
                    if (hasAlpha && AlphaIsOpaque(pixels, bands))
                    {
                        DropLastBand(pixels, bands);
                        bands--;
                        size = (nuint)((long)width * height * bands);
                    }
                    using var fresh = vips_image_new_from_memory_copy(raw, size, width, height, bands, FormatUchar);
                    if (fresh.IsInvalid) throw new VipsException("new_from_memory_copy failed: " + TakeError());
                    if (vips_copy(fresh, out var typed, "interpretation", InterpretationSrgb, IntPtr.Zero) != 0)
                        throw new VipsException("copy failed: " + TakeError());
                    return typed;
                }
                finally
                {
                    g_free(raw);
                }
            }
            finally
            {
                cast?.Dispose();
            }
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

    private static GObjectHandle Resize(GObjectHandle master, int size)
    {
        if (vips_thumbnail_image(master, out var thumb, size, "height", size, "crop", InterestingCentre, IntPtr.Zero) != 0)
            throw new VipsException("resize failed: " + TakeError());
        return thumb;
    }

    private static byte[] SaveJpeg(GObjectHandle image, int quality)
    {
        if (vips_jpegsave_buffer(image, out var buf, out var len,
                "Q", quality, "strip", 1, "interlace", 0, "optimize_coding", 1, IntPtr.Zero) != 0)
            throw new VipsException("jpegsave failed: " + TakeError());
        return TakeBuffer(buf, len);
    }

    private static byte[] SavePng(GObjectHandle image)
    {
        if (vips_pngsave_buffer(image, out var buf, out var len, "strip", 1, "compression", 6, IntPtr.Zero) != 0)
            throw new VipsException("pngsave failed: " + TakeError());
        return TakeBuffer(buf, len);
    }

    private static byte[] SaveWebp(GObjectHandle image)
    {
        if (vips_webpsave_buffer(image, out var buf, out var len, "Q", 80, "strip", 1, IntPtr.Zero) != 0)
            throw new VipsException("webpsave failed: " + TakeError());
        return WebpMetadata.Strip(TakeBuffer(buf, len));
    }

    private static ImageRejectedException Undecodable() =>
        new(RejectionKind.Undecodable, "The image could not be read; the file may be damaged or incomplete. Please upload it again or try another image.");
}

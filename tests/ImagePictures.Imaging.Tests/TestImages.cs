using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using static ImagePictures.Imaging.Native;

namespace ImagePictures.Imaging.Tests;

/// <summary>Generates and inspects test images through libvips.</summary>
internal static class TestImages
{
    [DllImport(Vips)] private static extern unsafe int vips_draw_rect(GObjectHandle image, double* ink, int n, int left, int top, int width, int height, string n1, int v1, IntPtr end);
    [DllImport(Vips)] private static extern unsafe int vips_draw_circle(GObjectHandle image, double* ink, int n, int cx, int cy, int r, string n1, int v1, IntPtr end);
    [DllImport(Vips)] private static extern int vips_copy(GObjectHandle input, out GObjectHandle output, string n1, int v1, IntPtr end);
    [DllImport(Vips)] private static extern void vips_image_set_int(GObjectHandle image, string name, int value);
    [DllImport(Vips)] private static extern void vips_image_set_string(GObjectHandle image, string name, string value);
    [DllImport(Vips)] private static extern unsafe int vips_getpoint(GObjectHandle image, out IntPtr vector, out int n, int x, int y, IntPtr end);
    [DllImport(Vips)] private static extern int vips_gaussnoise(out GObjectHandle output, int width, int height, IntPtr end);
    [DllImport(Vips)] private static extern int vips_heifsave_buffer(GObjectHandle input, out IntPtr buf, out nuint len, string n1, int v1, string n2, int v2, IntPtr end);
    [DllImport(Vips)] private static extern int vips_gifsave_buffer(GObjectHandle input, out IntPtr buf, out nuint len, IntPtr end);
    [DllImport(Vips)] private static extern int vips_webpsave_buffer(GObjectHandle input, out IntPtr buf, out nuint len, string n1, int v1, IntPtr end);
    [DllImport(Vips)] private static extern int vips_pngsave_buffer(GObjectHandle input, out IntPtr buf, out nuint len, IntPtr end);
    [DllImport(Vips)] private static extern int vips_jpegsave_buffer(GObjectHandle input, out IntPtr buf, out nuint len, string n1, int v1, IntPtr end);
    [DllImport(Vips, EntryPoint = "vips_jpegsave_buffer")] private static extern int vips_jpegsave_buffer_profile(GObjectHandle input, out IntPtr buf, out nuint len, string n1, int v1, string n2, string v2, IntPtr end);
    [DllImport(Vips)] private static extern int vips_tiffsave_buffer(GObjectHandle input, out IntPtr buf, out nuint len, IntPtr end);
    [DllImport(Vips)] private static extern int vips_linear1(GObjectHandle input, out GObjectHandle output, double a, double b, IntPtr end);
    [DllImport(Vips)] private static extern int vips_bandjoin_const1(GObjectHandle input, out GObjectHandle output, double c, IntPtr end);

    public static readonly double[] Red = [255, 0, 0];
    public static readonly double[] Blue = [0, 0, 255];
    public static readonly double[] Green = [0, 200, 0];

    static TestImages() => ImagePipeline.EnsureInitialized();

    public static bool HeifSaveAvailable => ImagePipeline.HeifAvailable && vips_type_find("VipsOperation", "heifsave_buffer") != 0;

    /// <summary>An sRGB (or sRGBA) memory image filled with <paramref name="fill"/>.</summary>
    public static GObjectHandle Canvas(int width, int height, double[] fill)
    {
        Check(vips_black(out var black, width, height, "bands", fill.Length, IntPtr.Zero));
        using (black)
        {
            Check(vips_copy(black, out var typed, "interpretation", InterpretationSrgb, IntPtr.Zero));
            using (typed)
            {
                var mem = vips_image_copy_memory(typed);
                if (mem.IsInvalid) throw new InvalidOperationException(TakeError());
                Rect(mem, fill, 0, 0, width, height);
                return mem;
            }
        }
    }

    public static unsafe void Rect(GObjectHandle image, double[] ink, int x, int y, int w, int h)
    {
        fixed (double* p = ink) Check(vips_draw_rect(image, p, ink.Length, x, y, w, h, "fill", 1, IntPtr.Zero));
    }

    public static unsafe void Circle(GObjectHandle image, double[] ink, int cx, int cy, int r)
    {
        fixed (double* p = ink) Check(vips_draw_circle(image, p, ink.Length, cx, cy, r, "fill", 1, IntPtr.Zero));
    }

    public static void SetInt(GObjectHandle image, string name, int value) => vips_image_set_int(image, name, value);
    public static void SetString(GObjectHandle image, string name, string value) => vips_image_set_string(image, name, value);

    public static byte[] Jpeg(GObjectHandle image, int q = 90) { Check(vips_jpegsave_buffer(image, out var b, out var l, "Q", q, IntPtr.Zero)); return TakeBuffer(b, l); }
    /// <summary>JPEG with the built-in sRGB ICC profile embedded (APP2 ICC_PROFILE).</summary>
    public static byte[] JpegWithIcc(GObjectHandle image) { Check(vips_jpegsave_buffer_profile(image, out var b, out var l, "Q", 90, "profile", "srgb", IntPtr.Zero)); return TakeBuffer(b, l); }
    public static byte[] Png(GObjectHandle image) { Check(vips_pngsave_buffer(image, out var b, out var l, IntPtr.Zero)); return TakeBuffer(b, l); }
    public static byte[] WebP(GObjectHandle image) { Check(vips_webpsave_buffer(image, out var b, out var l, "Q", 90, IntPtr.Zero)); return TakeBuffer(b, l); }
    public static byte[] Gif(GObjectHandle image) { Check(vips_gifsave_buffer(image, out var b, out var l, IntPtr.Zero)); return TakeBuffer(b, l); }
    public static byte[] Tiff(GObjectHandle image) { Check(vips_tiffsave_buffer(image, out var b, out var l, IntPtr.Zero)); return TakeBuffer(b, l); }
    /// <summary>compression: 1 = HEVC, 4 = AV1.</summary>
    public static byte[] Heif(GObjectHandle image, int compression) { Check(vips_heifsave_buffer(image, out var b, out var l, "compression", compression, "Q", 60, IntPtr.Zero)); return TakeBuffer(b, l); }

    /// <summary>16-bit RGB PNG.</summary>
    public static byte[] Png16(int w, int h)
    {
        using var img = Split(w, h, Red, Blue);
        Check(vips_linear1(img, out var scaled, 257, 0, IntPtr.Zero));
        using (scaled)
        {
            Check(vips_cast(scaled, out var us, 2 /* ushort */, IntPtr.Zero));
            using (us)
            {
                Check(vips_copy(us, out var rgb16, "interpretation", 25 /* RGB16 */, IntPtr.Zero));
                using (rgb16) return Png(rgb16);
            }
        }
    }

    public static byte[] SolidJpeg(int w, int h, double[] colour) { using var img = Canvas(w, h, colour); return Jpeg(img); }

    /// <summary>Left half <paramref name="left"/>, right half <paramref name="right"/>.</summary>
    public static GObjectHandle Split(int w, int h, double[] left, double[] right)
    {
        var img = Canvas(w, h, left);
        Rect(img, right, w / 2, 0, w - w / 2, h);
        return img;
    }

    public static byte[] Noise(int w, int h)
    {
        Check(vips_gaussnoise(out var noise, w, h, IntPtr.Zero));
        using (noise)
        {
            Check(vips_bandjoin_const1(noise, out var two, 128, IntPtr.Zero));
            using (two)
            {
                Check(vips_bandjoin_const1(two, out var three, 64, IntPtr.Zero));
                using (three)
                {
                    Check(vips_cast(three, out var uc, FormatUchar, IntPtr.Zero));
                    using (uc)
                    {
                        Check(vips_copy(uc, out var typed, "interpretation", InterpretationSrgb, IntPtr.Zero));
                        using (typed) return Jpeg(typed, 90);
                    }
                }
            }
        }
    }

    /// <summary>Decodes any encoded image (loaders are restricted as in production).</summary>
    public static GObjectHandle Decode(byte[] data) => WithBlob(data, blob =>
    {
        using var source = SourceFromBlob(blob);
        var img = vips_image_new_from_source(source, "", "access", AccessRandom, "fail_on", FailOnNone, IntPtr.Zero);
        if (img.IsInvalid) throw new InvalidOperationException("decode failed: " + TakeError());
        var mem = vips_image_copy_memory(img);
        img.Dispose();
        if (mem.IsInvalid) throw new InvalidOperationException("decode failed: " + TakeError());
        return mem;
    });

    public static (int W, int H, int Bands) Size(byte[] data)
    {
        using var img = Decode(data);
        return (vips_image_get_width(img), vips_image_get_height(img), vips_image_get_bands(img));
    }

    public static double[] Pixel(GObjectHandle image, int x, int y)
    {
        Check(vips_getpoint(image, out var vec, out var n, x, y, IntPtr.Zero));
        try
        {
            var result = new double[n];
            Marshal.Copy(vec, result, 0, n);
            return result;
        }
        finally { g_free(vec); }
    }

    public static void AssertColour(double[] expected, double[] actual, double tolerance = 40)
    {
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance,
                $"expected ~[{string.Join(",", expected)}] got [{string.Join(",", actual)}]");
    }

    private static void Check(int rc)
    {
        if (rc != 0) throw new InvalidOperationException("libvips: " + TakeError());
    }

    // ------------------------------------------------------------ hand-built bytes

    public static byte[] PngHeaderOnly(int width, int height)
    {
        using var ms = new MemoryStream();
        ms.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8; ihdr[9] = 2; // 8-bit RGB
        PngChunk(ms, "IHDR", ihdr);
        PngChunk(ms, "IDAT", [0x78, 0x9C, 0x63, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01]); // zlib of one zero byte
        PngChunk(ms, "IEND", []);
        return ms.ToArray();
    }

    private static void PngChunk(Stream s, string type, byte[] data)
    {
        Span<byte> len = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(len, data.Length);
        s.Write(len);
        var typeAndData = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        s.Write(typeAndData);
        BinaryPrimitives.WriteUInt32BigEndian(len, Crc32(typeAndData));
        s.Write(len);
    }

    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }

    /// <summary>A valid small JPEG whose SOF marker is patched to claim width x height.</summary>
    public static byte[] JpegClaiming(int width, int height)
    {
        var jpeg = SolidJpeg(16, 16, Green);
        for (var i = 2; i < jpeg.Length - 9; i++)
        {
            if (jpeg[i] == 0xFF && jpeg[i + 1] is 0xC0 or 0xC1 or 0xC2)
            {
                BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(i + 5), (ushort)height);
                BinaryPrimitives.WriteUInt16BigEndian(jpeg.AsSpan(i + 7), (ushort)width);
                return jpeg;
            }
        }
        throw new InvalidOperationException("no SOF marker");
    }

    /// <summary>Inserts JPEG segments right after SOI.</summary>
    public static byte[] InsertSegments(byte[] jpeg, params (byte Marker, byte[] Payload)[] segments)
    {
        using var ms = new MemoryStream();
        ms.Write(jpeg, 0, 2);
        foreach (var (marker, payload) in segments)
        {
            ms.WriteByte(0xFF); ms.WriteByte(marker);
            ms.WriteByte((byte)((payload.Length + 2) >> 8)); ms.WriteByte((byte)((payload.Length + 2) & 0xFF));
            ms.Write(payload);
        }
        ms.Write(jpeg, 2, jpeg.Length - 2);
        return ms.ToArray();
    }

    /// <summary>APP1 Exif payload: IFD0 with ImageDescription + GPS IFD (GPSLatitudeRef, GPSLatitude).</summary>
    public static byte[] ExifWithGps()
    {
        var desc = Encoding.ASCII.GetBytes("GPSLatitude secret-location\0");
        var t = new List<byte>();
        void U16(int v) { t.Add((byte)v); t.Add((byte)(v >> 8)); }
        void U32(int v) { U16(v & 0xFFFF); U16(v >> 16); }
        // little-endian TIFF header
        t.AddRange("II"u8.ToArray()); U16(42); U32(8);
        // IFD0 at 8: 2 entries (12 bytes each) + next(4) => ends at 8+2+24+4 = 38
        const int ifd0End = 38;
        var descOffset = ifd0End;
        var gpsOffset = descOffset + desc.Length + (desc.Length % 2);
        U16(2);
        U16(0x010E); U16(2); U32(desc.Length); U32(descOffset); // ImageDescription
        U16(0x8825); U16(4); U32(1); U32(gpsOffset);           // GPSInfo IFD pointer
        U32(0);
        t.AddRange(desc); if (desc.Length % 2 == 1) t.Add(0);
        // GPS IFD: 2 entries => 2+24+4 = 30 bytes, then rationals
        var ratOffset = gpsOffset + 30;
        U16(2);
        U16(0x0001); U16(2); U32(2); t.Add((byte)'N'); t.Add(0); t.Add(0); t.Add(0); // GPSLatitudeRef "N"
        U16(0x0002); U16(5); U32(3); U32(ratOffset);                                   // GPSLatitude
        U32(0);
        U32(52); U32(1); U32(22); U32(1); U32(1234); U32(100);
        return "Exif\0\0"u8.ToArray().Concat(t).ToArray();
    }

    public static byte[] XmpPayload() =>
        Encoding.ASCII.GetBytes("http://ns.adobe.com/xap/1.0/\0<?xpacket begin='' id='W5M0MpCehiHzreSzNTczkc9d'?><x:xmpmeta xmlns:x='adobe:ns:meta/'><rdf:RDF xmlns:rdf='http://www.w3.org/1999/02/22-rdf-syntax-ns#'><rdf:Description xmlns:exif='http://ns.adobe.com/exif/1.0/' exif:GPSLatitude='52,22.34N'/></rdf:RDF></x:xmpmeta><?xpacket end='w'?>");

    public static bool Contains(byte[] haystack, string needle) =>
        haystack.AsSpan().IndexOf(Encoding.ASCII.GetBytes(needle)) >= 0;
}

using System.Buffers.Binary;
using System.Text;
using NetVips;
using ImagePictures.Imaging;
using Xunit;
using Vips = NetVips.NetVips;

namespace ImagePictures.Testing;

/// <summary>Generates and inspects test images through libvips (NetVips).</summary>
public static class TestImages
{
    public static readonly double[] Red = [255, 0, 0];
    public static readonly double[] Blue = [0, 0, 255];
    public static readonly double[] Green = [0, 200, 0];

    static TestImages() => ImagePipeline.EnsureInitialized();

    public static bool HeifSaveAvailable => ImagePipeline.HeifAvailable && Vips.TypeFind("VipsOperation", "heifsave_buffer") != IntPtr.Zero;

    /// <summary>An sRGB (or sRGBA) memory image filled with <paramref name="fill"/>.</summary>
    public static Image Canvas(int width, int height, double[] fill)
    {
        using var black = Image.Black(width, height, bands: fill.Length);
        using var typed = black.Copy(interpretation: fill.Length >= 3 ? Enums.Interpretation.Srgb : Enums.Interpretation.Bw);
        return typed.Mutate(m => m.DrawRect(fill, 0, 0, width, height, fill: true));
    }

    /// <summary><paramref name="image"/> with a filled rectangle drawn on it (a new image).</summary>
    public static Image WithRect(Image image, double[] ink, int x, int y, int w, int h) =>
        image.Mutate(m => m.DrawRect(ink, x, y, w, h, fill: true));

    /// <summary><paramref name="image"/> with a filled circle drawn on it (a new image).</summary>
    public static Image WithCircle(Image image, double[] ink, int cx, int cy, int r) =>
        image.Mutate(m => m.DrawCircle(ink, cx, cy, r, fill: true));

    /// <summary><paramref name="image"/> with an integer metadata field set (a new image).</summary>
    public static Image WithInt(Image image, string name, int value) => image.Mutate(m => m.Set(GValue.GIntType, name, value));

    public static byte[] Jpeg(Image image, int q = 90) => image.JpegsaveBuffer(q: q);
    /// <summary>JPEG with the built-in sRGB ICC profile embedded (APP2 ICC_PROFILE).</summary>
    public static byte[] JpegWithIcc(Image image) => image.JpegsaveBuffer(q: 90, profile: "srgb");
    public static byte[] Png(Image image) => image.PngsaveBuffer();
    public static byte[] WebP(Image image) => image.WebpsaveBuffer(q: 90);
    public static byte[] Gif(Image image) => image.GifsaveBuffer();
    public static byte[] Tiff(Image image) => image.TiffsaveBuffer();
    /// <summary>HEVC (HEIC) or AV1 (AVIF) in a HEIF container.</summary>
    public static byte[] Heif(Image image, Enums.ForeignHeifCompression compression) =>
        Checked(() => image.HeifsaveBuffer(compression: compression, q: 60));

    /// <summary>16-bit RGB PNG.</summary>
    public static byte[] Png16(int w, int h)
    {
        using var img = Split(w, h, Red, Blue);
        using var scaled = img.Linear([257.0], [0.0]);
        using var us = scaled.Cast(Enums.BandFormat.Ushort);
        using var rgb16 = us.Copy(interpretation: Enums.Interpretation.Rgb16);
        return Png(rgb16);
    }

    public static byte[] SolidJpeg(int w, int h, double[] colour) { using var img = Canvas(w, h, colour); return Jpeg(img); }

    /// <summary>Left half <paramref name="left"/>, right half <paramref name="right"/>.</summary>
    public static Image Split(int w, int h, double[] left, double[] right)
    {
        using var img = Canvas(w, h, left);
        return WithRect(img, right, w / 2, 0, w - w / 2, h);
    }

    public static byte[] Noise(int w, int h)
    {
        using var noise = Image.Gaussnoise(w, h);
        using var three = noise.Bandjoin(128.0, 64.0);
        using var uc = three.Cast(Enums.BandFormat.Uchar);
        using var typed = uc.Copy(interpretation: Enums.Interpretation.Srgb);
        return Jpeg(typed, 90);
    }

    /// <summary>Decodes any encoded image into memory (loaders are restricted as in production).</summary>
    public static Image Decode(byte[] data)
    {
        using var source = Source.NewFromMemory(data);
        using var img = Checked(() => Image.NewFromSource(source, access: Enums.Access.Random));
        return Checked(img.CopyMemory);
    }

    public static (int W, int H, int Bands) Size(byte[] data)
    {
        using var img = Decode(data);
        return (img.Width, img.Height, img.Bands);
    }

    public static double[] Pixel(Image image, int x, int y) => image.Getpoint(x, y);

    public static void AssertColour(double[] expected, double[] actual, double tolerance = 40)
    {
        for (var i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= tolerance,
                $"expected ~[{string.Join(",", expected)}] got [{string.Join(",", actual)}]");
    }

    /// <summary>libvips failures as <see cref="InvalidOperationException"/>, which the tests expect.</summary>
    private static T Checked<T>(Func<T> step)
    {
        try { return step(); }
        catch (VipsException e) { throw new InvalidOperationException("libvips: " + e.Message, e); }
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

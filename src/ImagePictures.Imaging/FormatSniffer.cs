using System.Text;

namespace ImagePictures.Imaging;

/// <summary>Magic-byte detection; anything not recognised here never reaches libvips.</summary>
internal static class FormatSniffer
{
    private static readonly string[] HeifBrands =
        ["heic", "heix", "hevc", "hevx", "heim", "heis", "hevm", "hevs", "mif1", "msf1", "avif", "avis"];

    public static ImageFormat? Sniff(ReadOnlySpan<byte> d)
    {
        if (d.Length >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF) return ImageFormat.Jpeg;
        if (d.Length >= 8 && d[..8].SequenceEqual(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A })) return ImageFormat.Png;
        if (d.Length >= 6 && (d[..6].SequenceEqual("GIF87a"u8) || d[..6].SequenceEqual("GIF89a"u8))) return ImageFormat.Gif;
        if (d.Length >= 12 && d[..4].SequenceEqual("RIFF"u8) && d.Slice(8, 4).SequenceEqual("WEBP"u8)) return ImageFormat.WebP;
        if (IsHeif(d)) return ImageFormat.Heif;
        return null;
    }

    private static bool IsHeif(ReadOnlySpan<byte> d)
    {
        if (d.Length < 16 || !d.Slice(4, 4).SequenceEqual("ftyp"u8)) return false;
        long boxSize = (uint)(d[0] << 24 | d[1] << 16 | d[2] << 8 | d[3]);
        if (boxSize < 16) return false;
        var end = (int)Math.Min(boxSize, d.Length);
        if (IsHeifBrand(d.Slice(8, 4))) return true;
        for (var i = 16; i + 4 <= end; i += 4)
            if (IsHeifBrand(d.Slice(i, 4))) return true;
        return false;
    }

    private static bool IsHeifBrand(ReadOnlySpan<byte> brand)
    {
        var s = Encoding.ASCII.GetString(brand);
        return Array.IndexOf(HeifBrands, s) >= 0;
    }
}

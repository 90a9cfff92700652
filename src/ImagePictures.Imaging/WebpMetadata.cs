using System.Buffers.Binary;
using NetVips;

namespace ImagePictures.Imaging;

/// <summary>
/// libvips 8.14's webpsave ignores strip=TRUE and always writes a (regenerated) EXIF chunk.
/// This removes EXIF, XMP and ICCP chunks from a WebP RIFF container and clears the matching VP8X flags.
/// </summary>
internal static class WebpMetadata
{
    private const byte IccFlag = 0x20, ExifFlag = 0x08, XmpFlag = 0x04;

    public static byte[] Strip(byte[] webp)
    {
        if (webp.Length < 12 || !webp.AsSpan(0, 4).SequenceEqual("RIFF"u8) || !webp.AsSpan(8, 4).SequenceEqual("WEBP"u8))
            throw new VipsException("webpsave produced an unexpected container");

        using var output = new MemoryStream(webp.Length);
        output.Write(webp, 0, 12);
        var pos = 12;
        while (pos + 8 <= webp.Length)
        {
            var fourcc = webp.AsSpan(pos, 4);
            var size = BinaryPrimitives.ReadUInt32LittleEndian(webp.AsSpan(pos + 4));
            var total = 8L + size + (size & 1);
            if (pos + total > webp.Length) throw new VipsException("webpsave produced a truncated chunk");
            var drop = fourcc.SequenceEqual("EXIF"u8) || fourcc.SequenceEqual("XMP "u8) || fourcc.SequenceEqual("ICCP"u8);
            if (!drop)
            {
                var start = (int)output.Position;
                output.Write(webp, pos, (int)total);
                if (fourcc.SequenceEqual("VP8X"u8) && size >= 1)
                {
                    var buf = output.GetBuffer();
                    buf[start + 8] &= unchecked((byte)~(IccFlag | ExifFlag | XmpFlag));
                }
            }
            pos += (int)total;
        }
        var result = output.ToArray();
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(4), (uint)(result.Length - 8));
        return result;
    }
}

using System.Buffers.Binary;
using System.Text;

namespace ImagePictures.Faults.Tests.Infrastructure;

/// <summary>Seeded hostile variations of valid JPEG, PNG, WebP and GIF files.</summary>
public sealed class Mutations
{
    public sealed record Mutation(int Index, string Kind, string Source, byte[] Bytes);

    private readonly Random _random;
    private readonly (string Name, byte[] Bytes)[] _sources;

    public Mutations(int seed)
    {
        _random = new Random(seed);
        using var rgb = TestImages.Split(120, 90, TestImages.Red, TestImages.Blue);
        using var rgba = TestImages.Canvas(64, 64, [0, 200, 0, 128]);
        _sources =
        [
            ("jpeg", TestImages.Jpeg(rgb, 85)),
            ("png", TestImages.Png(rgb)),
            ("png-alpha", TestImages.Png(rgba)),
            ("webp", TestImages.WebP(rgb)),
            ("gif", TestImages.Gif(rgb)),
        ];
    }

    public IEnumerable<Mutation> Take(int count)
    {
        for (var i = 0; i < count; i++)
        {
            var (name, source) = _sources[_random.Next(_sources.Length)];
            var kind = _random.Next(5) switch { 0 => "bit-flips", 1 => "truncation", 2 => "splice", 3 => "absurd-dimensions", _ => "absurd-dimensions+flips" };
            var bytes = kind switch
            {
                "bit-flips" => FlipBits(source),
                "truncation" => source[..(1 + _random.Next(source.Length - 1))],
                "splice" => Splice(source),
                "absurd-dimensions" => AbsurdDimensions(name, source),
                _ => FlipBits(AbsurdDimensions(name, source)),
            };
            yield return new Mutation(i, kind, name, bytes);
        }
    }

    private byte[] FlipBits(byte[] source)
    {
        var bytes = (byte[])source.Clone();
        var flips = 1 + _random.Next(24);
        for (var f = 0; f < flips; f++)
        {
            // Half of the flips land in the first 64 bytes, where the headers are.
            var at = _random.Next(2) == 0 ? _random.Next(Math.Min(64, bytes.Length)) : _random.Next(bytes.Length);
            bytes[at] ^= (byte)(1 << _random.Next(8));
        }
        return bytes;
    }

    /// <summary>The header of one format followed by the body of another.</summary>
    private byte[] Splice(byte[] body)
    {
        var (_, header) = _sources[_random.Next(_sources.Length)];
        var headerLength = 8 + _random.Next(Math.Min(120, header.Length - 8));
        var bodyFrom = _random.Next(body.Length / 2);
        return [.. header[..headerLength], .. body[bodyFrom..]];
    }

    private uint AbsurdValue(uint max)
    {
        uint[] candidates = [0, 1, 16383, 16384, 30000, 65535, 65536, 100_000, 1 << 24, 0x7FFFFFFF, 0xFFFFFFFF];
        return Math.Min(max, candidates[_random.Next(candidates.Length)]);
    }

    private byte[] AbsurdDimensions(string format, byte[] source)
    {
        var bytes = (byte[])source.Clone();
        switch (format)
        {
            case "jpeg":
                for (var i = 2; i < bytes.Length - 9; i++)
                {
                    if (bytes[i] != 0xFF || bytes[i + 1] is not (0xC0 or 0xC1 or 0xC2)) continue;
                    BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(i + 5), (ushort)AbsurdValue(ushort.MaxValue));
                    BinaryPrimitives.WriteUInt16BigEndian(bytes.AsSpan(i + 7), (ushort)AbsurdValue(ushort.MaxValue));
                    break;
                }
                return bytes;
            case "png" or "png-alpha":
                BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(16), AbsurdValue(uint.MaxValue));
                BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(20), AbsurdValue(uint.MaxValue));
                // Usually with a correct CRC, so that the decoder believes the header.
                if (_random.Next(4) != 0) BinaryPrimitives.WriteUInt32BigEndian(bytes.AsSpan(29), Crc32(bytes.AsSpan(12, 17)));
                return bytes;
            case "gif":
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(6), (ushort)AbsurdValue(ushort.MaxValue));
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(8), (ushort)AbsurdValue(ushort.MaxValue));
                if (_random.Next(2) == 0)
                {
                    // The first image descriptor as well.
                    var at = Array.IndexOf(bytes, (byte)0x2C, 13);
                    if (at > 0 && at + 9 < bytes.Length)
                    {
                        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(at + 5), (ushort)AbsurdValue(ushort.MaxValue));
                        BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(at + 7), (ushort)AbsurdValue(ushort.MaxValue));
                    }
                }
                return bytes;
            default: // webp: wrap the bitstream in a VP8X container whose canvas claims absurd dimensions
                var vp8x = ToVp8X(bytes);
                WriteUInt24(vp8x.AsSpan(24), AbsurdValue(0xFFFFFF));
                WriteUInt24(vp8x.AsSpan(27), AbsurdValue(0xFFFFFF));
                return vp8x;
        }
    }

    private static byte[] ToVp8X(byte[] webp)
    {
        if (Encoding.ASCII.GetString(webp, 12, 4) == "VP8X") return webp;
        var chunk = new byte[18];
        Encoding.ASCII.GetBytes("VP8X").CopyTo(chunk, 0);
        BinaryPrimitives.WriteUInt32LittleEndian(chunk.AsSpan(4), 10);
        WriteUInt24(chunk.AsSpan(12), 119);
        WriteUInt24(chunk.AsSpan(15), 89);
        byte[] result = [.. webp[..12], .. chunk, .. webp[12..]];
        BinaryPrimitives.WriteUInt32LittleEndian(result.AsSpan(4), (uint)(result.Length - 8));
        return result;
    }

    private static void WriteUInt24(Span<byte> span, uint value)
    {
        span[0] = (byte)value; span[1] = (byte)(value >> 8); span[2] = (byte)(value >> 16);
    }

    private static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
        }
        return ~crc;
    }
}

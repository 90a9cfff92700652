using NetVips;

namespace ImagePictures.Imaging;

/// <summary>
/// A libvips source over the caller's bytes where they lie (an upload's mapped buffer, an array),
/// without copying them first: NetVips' <c>Source.NewFromMemory(ReadOnlySpan)</c> and
/// <c>Image.NewFromBuffer</c> copy the whole input, and <c>Source.NewFromMemory(byte[])</c> needs an
/// array of exactly the input's length. libvips pulls the bytes a chunk at a time, as from a file.
/// The bytes must stay fixed until the source and every image made from it are disposed.
/// </summary>
internal sealed unsafe class CallerBytesSource : SourceCustom
{
    private readonly byte* _start;
    private readonly long _length;
    private long _position;

    public CallerBytesSource(byte* start, int length)
    {
        _start = start;
        _length = length;
        OnRead += Read;
        OnSeek += Seek;
    }

    private int Read(byte[] buffer, int length)
    {
        var n = (int)Math.Min(Math.Min(length, buffer.Length), _length - _position);
        if (n <= 0) return 0;
        new ReadOnlySpan<byte>(_start + _position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    // Seekable, so libvips rewinds instead of buffering the whole input as it would for a pipe.
    private long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            SeekOrigin.End => _length + offset,
            _ => -1,
        };
        if (target < 0 || target > _length) return -1;
        return _position = target;
    }
}

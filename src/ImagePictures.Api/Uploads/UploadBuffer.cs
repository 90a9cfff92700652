using System.Buffers;
using System.Runtime.InteropServices;

namespace ImagePictures.Api.Uploads;

/// <summary>
/// An upload's bytes in memory mapped for it alone, given back to the OS when the upload is disposed.
/// As managed arrays, the buffers of a burst of 16 uploads stayed on the large-object heap until the next
/// full collection (about 140 MB); from malloc, they stayed in its arenas. Either pushed the service past
/// its 512 MB goal. Two buffers are kept for reuse, so steady uploads do not fault fresh pages in each time.
/// </summary>
internal sealed unsafe class UploadBuffer : MemoryManager<byte>
{
    private const int KeptForReuse = 2;
    private static readonly Stack<(IntPtr Pointer, int Capacity)> Kept = new();

    private byte* _pointer;

    public int Capacity { get; private set; }

    public UploadBuffer(int capacity)
    {
        (var pointer, Capacity) = Take(capacity);
        _pointer = (byte*)pointer;
    }

    /// <summary>Enlarges the buffer, keeping its contents. Memory taken from it before is no longer valid.</summary>
    public void Grow(int capacity)
    {
        var (larger, largerCapacity) = Take(capacity);
        new ReadOnlySpan<byte>(Pointer, Capacity).CopyTo(new Span<byte>((byte*)larger, largerCapacity));
        Give((IntPtr)_pointer, Capacity);
        _pointer = (byte*)larger;
        Capacity = largerCapacity;
    }

    private byte* Pointer => _pointer != null ? _pointer : throw new ObjectDisposedException(nameof(UploadBuffer));

    public override Span<byte> GetSpan() => new(Pointer, Capacity);

    public override MemoryHandle Pin(int elementIndex = 0) => new(Pointer + elementIndex);

    public override void Unpin() { }

    protected override void Dispose(bool disposing)
    {
        if (_pointer == null) return;
        Give((IntPtr)_pointer, Capacity);
        _pointer = null;
    }

    // A safety net only: every path through UploadForm disposes the buffer.
    ~UploadBuffer() => Dispose(false);

    private static (IntPtr Pointer, int Capacity) Take(int capacity)
    {
        lock (Kept)
        {
            if (Kept.TryPeek(out var kept) && kept.Capacity >= capacity) return Kept.Pop();
        }
        var pointer = mmap(IntPtr.Zero, (nuint)capacity, ProtReadWrite, MapPrivateAnonymous, -1, 0);
        if (pointer == MapFailed) throw new OutOfMemoryException("The upload buffer could not be allocated.");
        return (pointer, capacity);
    }

    private static void Give(IntPtr pointer, int capacity)
    {
        lock (Kept)
        {
            if (Kept.Count < KeptForReuse)
            {
                Kept.Push((pointer, capacity));
                return;
            }
        }
        munmap(pointer, (nuint)capacity);
    }

    private const int ProtReadWrite = 0x1 | 0x2;
    private const int MapPrivateAnonymous = 0x02 | 0x20;
    private static readonly IntPtr MapFailed = new(-1);
    [DllImport("libc", SetLastError = true)] private static extern IntPtr mmap(IntPtr addr, nuint length, int prot, int flags, int fd, nint offset);
    [DllImport("libc")] private static extern int munmap(IntPtr addr, nuint length);
}

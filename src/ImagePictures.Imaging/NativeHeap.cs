using System.Runtime.InteropServices;

namespace ImagePictures.Imaging;

/// <summary>
/// libvips allocates its pixel buffers with glibc malloc from whichever thread-pool thread runs the job.
/// glibc gives such threads their own arenas (up to 8 per core) and keeps freed memory in them, so the
/// resident set kept growing with every new thread that decoded an image (+48% over 1,000 uploads of
/// hostile images, found by the fault tests). Two arenas and a trim once the pipeline has been idle
/// for a moment keep it flat. Not glibc (musl, other OS): both calls are skipped.
/// </summary>
internal static class NativeHeap
{
    private const int M_ARENA_MAX = -8;
    private static bool _available = OperatingSystem.IsLinux();

    [DllImport("libc", EntryPoint = "mallopt")] private static extern int mallopt(int param, int value);
    [DllImport("libc", EntryPoint = "malloc_trim")] private static extern int malloc_trim(nuint pad);

    public static void LimitArenas()
    {
        if (!_available) return;
        try { mallopt(M_ARENA_MAX, 2); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { _available = false; }
    }

    /// <summary>Returns freed memory to the OS.</summary>
    public static void Trim()
    {
        if (!_available) return;
        try { malloc_trim(0); }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException) { _available = false; }
    }
}

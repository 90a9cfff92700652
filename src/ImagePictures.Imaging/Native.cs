using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace ImagePictures.Imaging;

/// <summary>GObject-backed handle (VipsImage*, VipsSource*): released with g_object_unref.</summary>
internal sealed class GObjectHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public GObjectHandle() : base(true) { }
    public GObjectHandle(IntPtr ptr) : base(true) => SetHandle(ptr);
    protected override bool ReleaseHandle()
    {
        Native.g_object_unref(handle);
        return true;
    }
}

/// <summary>A libvips blob (a VipsArea over the caller's bytes).</summary>
internal sealed class BlobHandle : SafeHandleZeroOrMinusOneIsInvalid
{
    public BlobHandle() : base(true) { }
    protected override bool ReleaseHandle()
    {
        Native.vips_area_unref(handle);
        return true;
    }
}

/// <summary>
/// Minimal P/Invoke surface for libvips 8.14. Variadic functions are declared as fixed overloads
/// (name/value pairs + terminating IntPtr.Zero), which is fine on x64 SysV as long as no double varargs are passed.
/// </summary>
internal static class Native
{
    internal const string Vips = "libvips.so.42";
    internal const string GObject = "libgobject-2.0.so.0";
    internal const string GLib = "libglib-2.0.so.0";

    // enums (libvips 8.14)
    internal const int InterestingNone = 0, InterestingCentre = 1, InterestingAttention = 3;
    internal const int SizeBoth = 0, SizeUp = 1, SizeDown = 2, SizeForce = 3;
    internal const int FailOnNone = 0, FailOnTruncated = 1, FailOnError = 2;
    internal const int AccessRandom = 0, AccessSequential = 1;
    internal const int InterpretationSrgb = 22;
    internal const int FormatUchar = 0;

    [DllImport(GObject)] internal static extern void g_object_unref(IntPtr obj);
    [DllImport(GLib)] internal static extern void g_free(IntPtr mem);

    [DllImport(Vips)] internal static extern int vips_init(string argv0);
    [DllImport(Vips)] internal static extern IntPtr vips_version_string();
    [DllImport(Vips)] internal static extern IntPtr vips_error_buffer();
    [DllImport(Vips)] internal static extern void vips_error_clear();
    [DllImport(Vips)] internal static extern nuint vips_type_find(string basename, string nickname);
    [DllImport(Vips)] internal static extern void vips_operation_block_set(string name, int state);
    [DllImport(Vips)] internal static extern void vips_block_untrusted_set(int state);
    [DllImport(Vips)] internal static extern void vips_cache_set_max(int max);
    [DllImport(Vips)] internal static extern void vips_cache_set_max_mem(nuint maxMem);
    [DllImport(Vips)] internal static extern void vips_cache_set_max_files(int maxFiles);
    [DllImport(Vips)] internal static extern void vips_concurrency_set(int concurrency);

    // blobs and sources
    [DllImport(Vips)] internal static extern unsafe BlobHandle vips_blob_new(IntPtr freeFn, byte* data, nuint length);
    [DllImport(Vips)] internal static extern void vips_area_unref(IntPtr area);
    [DllImport(Vips)] internal static extern GObjectHandle vips_source_new_from_blob(BlobHandle blob);

    // image properties
    [DllImport(Vips)] internal static extern int vips_image_get_width(GObjectHandle image);
    [DllImport(Vips)] internal static extern int vips_image_get_height(GObjectHandle image);
    [DllImport(Vips)] internal static extern int vips_image_get_bands(GObjectHandle image);
    [DllImport(Vips)] internal static extern int vips_image_get_format(GObjectHandle image);
    [DllImport(Vips)] internal static extern int vips_image_get_interpretation(GObjectHandle image);
    [DllImport(Vips)] internal static extern int vips_image_hasalpha(GObjectHandle image);
    [DllImport(Vips)] internal static extern GObjectHandle vips_image_copy_memory(GObjectHandle image);
    [DllImport(Vips)] internal static extern IntPtr vips_image_write_to_memory(GObjectHandle image, out nuint size);
    [DllImport(Vips)] internal static extern GObjectHandle vips_image_new_from_memory_copy(IntPtr data, nuint size, int width, int height, int bands, int format);
    [DllImport(Vips)] internal static extern int vips_copy(GObjectHandle input, out GObjectHandle output, string n1, int v1, IntPtr end);

    // loading
    [DllImport(Vips)]
    internal static extern GObjectHandle vips_image_new_from_source(GObjectHandle source, string optionString,
        string n1, int v1, string n2, int v2, IntPtr end);

    [DllImport(Vips)]
    internal static extern GObjectHandle vips_image_new_from_buffer(IntPtr buf, nuint len, string optionString, IntPtr end);

    [DllImport(Vips)]
    internal static extern int vips_thumbnail_source(GObjectHandle source, out GObjectHandle output, int width,
        string n1, int v1, string n2, int v2, string n3, string v3, IntPtr end);

    [DllImport(Vips)]
    internal static extern int vips_thumbnail_image(GObjectHandle input, out GObjectHandle output, int width,
        string n1, int v1, string n2, int v2, IntPtr end);

    // processing
    [DllImport(Vips)]
    internal static extern int vips_extract_area(GObjectHandle input, out GObjectHandle output, int left, int top, int width, int height, IntPtr end);
    [DllImport(Vips)] internal static extern int vips_autorot(GObjectHandle input, out GObjectHandle output, IntPtr end);
    [DllImport(Vips)] internal static extern int vips_colourspace(GObjectHandle input, out GObjectHandle output, int space, IntPtr end);
    [DllImport(Vips)] internal static extern int vips_cast(GObjectHandle input, out GObjectHandle output, int format, IntPtr end);
    [DllImport(Vips)] internal static extern int vips_black(out GObjectHandle output, int width, int height, string n1, int v1, IntPtr end);

    // saving
    [DllImport(Vips)]
    internal static extern int vips_jpegsave_buffer(GObjectHandle input, out IntPtr buf, out nuint len,
        string n1, int v1, string n2, int v2, string n3, int v3, string n4, int v4, IntPtr end);
    [DllImport(Vips)]
    internal static extern int vips_pngsave_buffer(GObjectHandle input, out IntPtr buf, out nuint len,
        string n1, int v1, string n2, int v2, IntPtr end);
    [DllImport(Vips)]
    internal static extern int vips_webpsave_buffer(GObjectHandle input, out IntPtr buf, out nuint len,
        string n1, int v1, string n2, int v2, IntPtr end);

    /// <summary>Reads and clears the libvips error buffer; strips anything that looks like a filesystem path.</summary>
    internal static string TakeError()
    {
        var p = vips_error_buffer();
        var msg = p == IntPtr.Zero ? "" : Marshal.PtrToStringUTF8(p) ?? "";
        vips_error_clear();
        msg = System.Text.RegularExpressions.Regex.Replace(msg, @"(?:[A-Za-z]:)?(?:[\\/][^\s:""']+){2,}", "<path>");
        return msg.Trim();
    }

    /// <summary>Copies a g_malloc'ed buffer into managed memory and frees it.</summary>
    internal static byte[] TakeBuffer(IntPtr buf, nuint len)
    {
        try
        {
            if (buf == IntPtr.Zero) return [];
            var bytes = new byte[checked((int)len)];
            Marshal.Copy(buf, bytes, 0, bytes.Length);
            return bytes;
        }
        finally
        {
            if (buf != IntPtr.Zero) g_free(buf);
        }
    }

    /// <summary>
    /// Runs <paramref name="read"/> with a blob over <paramref name="data"/>, without copying it (6.6 MB for a
    /// 12 MP photo). The bytes stay fixed until <paramref name="read"/> returns, so it must dispose every source
    /// and image made from the blob before then, or return only images copied into memory.
    /// </summary>
    internal static unsafe T WithBlob<T>(ReadOnlySpan<byte> data, Func<BlobHandle, T> read)
    {
        fixed (byte* p = data)
        {
            using var blob = vips_blob_new(IntPtr.Zero, p, (nuint)data.Length);
            if (blob.IsInvalid) throw new VipsException("vips_blob_new failed: " + TakeError());
            return read(blob);
        }
    }

    /// <summary>A VipsSource reading <paramref name="blob"/>; it holds its own reference to the blob.</summary>
    internal static GObjectHandle SourceFromBlob(BlobHandle blob)
    {
        var source = vips_source_new_from_blob(blob);
        if (source.IsInvalid) throw new VipsException("vips_source_new_from_blob failed: " + TakeError());
        return source;
    }
}

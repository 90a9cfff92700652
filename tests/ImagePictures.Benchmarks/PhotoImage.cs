using System.Runtime.InteropServices;
using ImagePictures.Imaging;
using static ImagePictures.Imaging.Native;

namespace ImagePictures.Benchmarks;

/// <summary>
/// A photo-like test image: a diagonal colour gradient with Gaussian noise on every band, so that
/// JPEG Q90 at 12 MP (written here rather than with the imaging tests' TestImages, which needs xunit) lands at a realistic size (several MB) instead of the few KB of a flat image.
/// </summary>
internal static class PhotoImage
{
    [DllImport(Vips)] private static extern int vips_gaussnoise(out GObjectHandle output, int width, int height, string n1, double v1, string n2, double v2, IntPtr end);
    [DllImport(Vips)] private static extern int vips_xyz(out GObjectHandle output, int width, int height, IntPtr end);
    [DllImport(Vips)] private static extern int vips_extract_band(GObjectHandle input, out GObjectHandle output, int band, IntPtr end);
    [DllImport(Vips)] private static extern int vips_add(GObjectHandle left, GObjectHandle right, out GObjectHandle output, IntPtr end);
    [DllImport(Vips)] private static extern int vips_linear1(GObjectHandle input, out GObjectHandle output, double a, double b, IntPtr end);
    [DllImport(Vips)] private static extern int vips_bandjoin2(GObjectHandle a, GObjectHandle b, out GObjectHandle output, IntPtr end);

    [DllImport(Vips, EntryPoint = "vips_jpegsave_buffer")] private static extern int jpegsave_buffer(GObjectHandle input, out IntPtr buf, out nuint len, string n1, int v1, IntPtr end);

    public static double Sigma { get; set; } = 9;

    public static byte[] Jpeg(int w, int h)
    {
        ImagePipeline.EnsureInitialized();
        using var xyz = Op(vips_xyz(out var o, w, h, IntPtr.Zero), o);
        using var x = Op(vips_extract_band(xyz, out o, 0, IntPtr.Zero), o);
        using var y = Op(vips_extract_band(xyz, out o, 1, IntPtr.Zero), o);
        using var xs = Op(vips_linear1(x, out o, 180.0 / w, 30, IntPtr.Zero), o);
        using var ys = Op(vips_linear1(y, out o, 150.0 / h, 50, IntPtr.Zero), o);
        using var diag = Op(vips_add(xs, ys, out o, IntPtr.Zero), o);
        using var r = Band(xs, 0);
        using var g = Band(ys, 1);
        using var half = Op(vips_linear1(diag, out o, 0.5, 20, IntPtr.Zero), o);
        using var b = Band(half, 2);
        using var rg = Op(vips_bandjoin2(r, g, out o, IntPtr.Zero), o);
        using var rgb = Op(vips_bandjoin2(rg, b, out o, IntPtr.Zero), o);
        using var uc = Op(vips_cast(rgb, out o, FormatUchar, IntPtr.Zero), o);
        using var typed = Op(vips_copy(uc, out o, "interpretation", InterpretationSrgb, IntPtr.Zero), o);
        if (jpegsave_buffer(typed, out var buf, out var len, "Q", 90, IntPtr.Zero) != 0) throw new InvalidOperationException("jpegsave: " + Marshal.PtrToStringUTF8(vips_error_buffer()));
        return TakeBuffer(buf, len);
    }

    private static GObjectHandle Band(GObjectHandle baseImage, int seed)
    {
        var w = vips_image_get_width(baseImage);
        var h = vips_image_get_height(baseImage);
        using var noise = Op(vips_gaussnoise(out var o, w, h, "mean", 0, "sigma", Sigma, IntPtr.Zero), o);
        return Op(vips_add(baseImage, noise, out o, IntPtr.Zero), o);
    }

    private static GObjectHandle Op(int rc, GObjectHandle output)
    {
        if (rc != 0) throw new InvalidOperationException("libvips: " + Marshal.PtrToStringUTF8(vips_error_buffer()));
        return output;
    }
}

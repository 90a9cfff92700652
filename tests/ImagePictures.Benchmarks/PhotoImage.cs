using ImagePictures.Imaging;
using NetVips;

namespace ImagePictures.Benchmarks;

/// <summary>
/// A photo-like test image: a diagonal colour gradient with Gaussian noise on every band, so that
/// JPEG Q90 at 12 MP (written here rather than with the imaging tests' TestImages, which needs xunit) lands at a realistic size (several MB) instead of the few KB of a flat image.
/// </summary>
internal static class PhotoImage
{
    public static double Sigma { get; set; } = 9;

    public static byte[] Jpeg(int w, int h)
    {
        ImagePipeline.EnsureInitialized();
        using var xyz = Image.Xyz(w, h);
        using var x = xyz.ExtractBand(0);
        using var y = xyz.ExtractBand(1);
        using var xs = x.Linear([180.0 / w], [30.0]);
        using var ys = y.Linear([150.0 / h], [50.0]);
        using var diag = xs.Add(ys);
        using var r = Band(xs);
        using var g = Band(ys);
        using var half = diag.Linear([0.5], [20.0]);
        using var b = Band(half);
        using var rgb = r.Bandjoin(g, b);
        using var uc = rgb.Cast(Enums.BandFormat.Uchar);
        using var typed = uc.Copy(interpretation: Enums.Interpretation.Srgb);
        return typed.JpegsaveBuffer(q: 90);
    }

    private static Image Band(Image baseImage)
    {
        using var noise = Image.Gaussnoise(baseImage.Width, baseImage.Height, mean: 0, sigma: Sigma);
        return baseImage.Add(noise);
    }
}

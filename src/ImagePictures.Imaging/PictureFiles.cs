namespace ImagePictures.Imaging;

/// <summary>An encoding a picture file is stored in.</summary>
public enum FileFormat { Jpeg, Png, WebP }

/// <summary>
/// The one place that names a picture's files for the configured sizes: master.jpg (master.png when the
/// picture has alpha) and, for each size, one file per entry of <see cref="VariantFormats"/>: {size}.jpg
/// ({size}.png with alpha) and {size}.webp. The pipeline writes exactly these, the image routes read
/// them and the stores delete them. The names are stored data: changing one orphans every existing picture.
/// </summary>
public sealed class PictureFiles
{
    /// <summary>A stored variant's encoding. <see cref="Plain"/> is JPEG, or PNG for a picture with alpha.</summary>
    public enum VariantFormat { Plain, WebP }

    /// <summary>Each size's variants, in the enum's order, so a format's value is its place (the variant table's slots follow it).</summary>
    public static readonly IReadOnlyList<VariantFormat> VariantFormats = Enum.GetValues<VariantFormat>();

    public PictureFiles(IReadOnlyList<int> sizes)
    {
        if (sizes is null || sizes.Count == 0 || sizes.Any(s => s < 1))
            throw new ArgumentOutOfRangeException(nameof(sizes), "Sizes must be a non-empty list of positive sizes.");
        Sizes = sizes.ToArray();
    }

    public IReadOnlyList<int> Sizes { get; }

    /// <summary>How many files a picture has: the master and every variant.</summary>
    public int Count => 1 + Sizes.Count * VariantFormats.Count;

    public static FileFormat MasterFormat(bool hasAlpha) => hasAlpha ? FileFormat.Png : FileFormat.Jpeg;

    public static FileFormat Format(VariantFormat variant, bool hasAlpha) =>
        variant == VariantFormat.WebP ? FileFormat.WebP : MasterFormat(hasAlpha);

    public static string Master(bool hasAlpha) => "master." + Extension(MasterFormat(hasAlpha));

    public static string Variant(int size, VariantFormat variant, bool hasAlpha) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{size}.{Extension(Format(variant, hasAlpha))}");

    public static string Extension(FileFormat format) => format switch
    {
        FileFormat.Jpeg => "jpg",
        FileFormat.Png => "png",
        FileFormat.WebP => "webp",
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    public static string ContentType(FileFormat format) => format switch
    {
        FileFormat.Jpeg => "image/jpeg",
        FileFormat.Png => "image/png",
        FileFormat.WebP => "image/webp",
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    /// <summary>Every file of a picture with or without alpha: what the pipeline writes for it.</summary>
    public IEnumerable<string> Of(bool hasAlpha)
    {
        yield return Master(hasAlpha);
        foreach (var size in Sizes)
            foreach (var variant in VariantFormats)
                yield return Variant(size, variant, hasAlpha);
    }

    /// <summary>
    /// Every name a picture's file can have, with and without alpha: what a purge deletes when it does
    /// not know which kind the picture is (an object store deletes keys it has not listed).
    /// </summary>
    public IEnumerable<string> AnyOf() => Of(hasAlpha: false).Union(Of(hasAlpha: true));
}

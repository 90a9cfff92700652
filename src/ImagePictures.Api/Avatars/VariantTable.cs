using ImagePictures.Imaging;

namespace ImagePictures.Api.Avatars;

/// <summary>
/// The variants of a picture, numbered once from Pictures:Sizes: slot = size index * formats per size
/// + the format's place in <see cref="PictureFiles.VariantFormats"/> (Plain, then WebP). A request picks
/// its slot by table lookup, and every file name and content type is a string made here once (named
/// by <see cref="PictureFiles"/>), so the image routes build no strings and run no LINQ per request.
/// </summary>
public sealed class VariantTable
{
    public const int DefaultRequestedSize = 128;
    private readonly int[] _sizes;
    private readonly int[] _indexForSize; // requested px (1..largest) -> index of the smallest size >= it
    private readonly string[] _opaqueNames, _alphaNames;
    private static readonly int FormatsPerSize = PictureFiles.VariantFormats.Count;

    public VariantTable(PictureFiles files)
    {
        _sizes = files.Sizes.ToArray(); // sorted, distinct (see ServiceSettings)
        _indexForSize = new int[_sizes[^1] + 1];
        for (int px = 1, i = 0; px < _indexForSize.Length; px++)
        {
            while (_sizes[i] < px) i++;
            _indexForSize[px] = i;
        }
        _opaqueNames = new string[Count];
        _alphaNames = new string[Count];
        for (var slot = 0; slot < Count; slot++)
        {
            _opaqueNames[slot] = PictureFiles.Variant(Size(slot), Format(slot), hasAlpha: false);
            _alphaNames[slot] = PictureFiles.Variant(Size(slot), Format(slot), hasAlpha: true);
        }
        SizesText = string.Join(", ", _sizes);
    }

    public int Count => _sizes.Length * FormatsPerSize;

    /// <summary>"32, 64, …" for error details.</summary>
    public string SizesText { get; }

    /// <summary>The avatar route's choice: the smallest configured size ≥ the request (default 128), else the largest.</summary>
    public int SlotFor(int? requested, bool webp)
    {
        var px = requested ?? DefaultRequestedSize;
        var index = px < _indexForSize.Length ? _indexForSize[px] : _sizes.Length - 1;
        return Slot(index, webp);
    }

    /// <summary>The index of exactly this configured size, or -1.</summary>
    public int IndexOfSize(int px) => px > 0 && px < _indexForSize.Length && _sizes[_indexForSize[px]] == px ? _indexForSize[px] : -1;

    public static int Slot(int sizeIndex, bool webp) =>
        sizeIndex * FormatsPerSize + (int)(webp ? PictureFiles.VariantFormat.WebP : PictureFiles.VariantFormat.Plain);

    public int Size(int slot) => _sizes[slot / FormatsPerSize];

    private static PictureFiles.VariantFormat Format(int slot) => PictureFiles.VariantFormats[slot % FormatsPerSize];

    public static bool IsWebP(int slot) => Format(slot) == PictureFiles.VariantFormat.WebP;

    public string FileName(int slot, bool hasAlpha) => hasAlpha ? _alphaNames[slot] : _opaqueNames[slot];

    public static string ContentType(int slot, bool hasAlpha) => PictureFiles.ContentType(PictureFiles.Format(Format(slot), hasAlpha));
}

/// <summary>
/// What the image routes need of a live picture: where its files are and its content hash. The
/// ETag of each variant is made on first use and kept, so a 304 costs one cache lookup and one compare.
/// </summary>
public sealed class LivePicture(string userId, Guid pictureId, string contentHash, bool hasAlpha, int slots)
{
    /// <summary>Stands for "no picture" in the caches, so that negative answers are cached like any other.</summary>
    public static readonly LivePicture None = new("", Guid.Empty, "", false, 0);

    private readonly string?[] _etags = new string?[slots];
    private readonly string _tag = contentHash.Length > 16 ? contentHash[..16] : contentHash;

    public string UserId { get; } = userId;
    public Guid PictureId { get; } = pictureId;
    public bool HasAlpha { get; } = hasAlpha;

    /// <summary>The start of the content hash that every ETag of this picture begins with.</summary>
    public string Tag => _tag;

    public string ETag(int slot, VariantTable table) => _etags[slot] ??= $"\"{_tag}-{table.FileName(slot, HasAlpha)}\"";
}

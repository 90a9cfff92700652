using System.Security.Cryptography;
using System.Text;
using BitFaster.Caching.Lfu;
using BitFaster.Caching.Scheduler;
using ImagePictures.Imaging;

namespace ImagePictures.Api.Avatars;

/// <summary>
/// The images the avatar routes make rather than store: generated defaults, and pictures at a size
/// that is not stored. Each is made once and then answered from memory:
/// <list type="bullet">
/// <item>generated images in a scan-resistant cache of their own (a flood of random hashes renders,
/// but cannot push out the popular ones);</item>
/// <item>resized pictures in the <see cref="VariantCache"/>, resized from the nearest larger stored
/// variant (its bytes usually in memory already), never from a fresh decode of the master.</item>
/// </list>
/// Both are deterministic, so their ETags are derived from what they are made of.
/// </summary>
public sealed class AvatarImages(VariantCache variants, DefaultAvatar defaults, VariantTable table)
{
    /// <summary>Bumped when the drawing changes, so that caches see new ETags.</summary>
    private const string DrawingVersion = "1";
    private const int GeneratedEntries = 4096;

    private readonly ConcurrentLfu<string, Made> _generated = new(Environment.ProcessorCount, GeneratedEntries, new ThreadPoolScheduler(), StringComparer.Ordinal);

    public sealed record Made(byte[] Bytes, string ContentType, string ETag);

    public static string Extension(AvatarFormat format) => format switch
    {
        AvatarFormat.Png => "png",
        AvatarFormat.WebP => "webp",
        _ => "jpg",
    };

    /// <summary>
    /// The ETag of a generated image, without drawing it (for 304s). Blank is always PNG. The seed is
    /// given as hex (an e-mail hash, or the SHA-256 of a user id).
    /// </summary>
    public static string GeneratedKey(AvatarStyle style, string seedHex, int size, AvatarFormat format, string? initials) =>
        $"{DrawingVersion}|{style}|{seedHex}|{size}|{(style == AvatarStyle.Blank ? AvatarFormat.Png : format)}|{(style == AvatarStyle.Initials ? initials : null)}";

    public Made Generated(AvatarStyle style, string seedHex, int size, AvatarFormat format, string? initials)
    {
        if (style == AvatarStyle.Blank) format = AvatarFormat.Png;
        var key = GeneratedKey(style, seedHex, size, format, initials);
        if (_generated.TryGet(key, out var made)) return made;
        var bytes = GeneratedAvatars.Draw(style, Convert.FromHexString(seedHex), size, format, initials);
        var etag = "\"g-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)), 0, 12) + "\"";
        made = new Made(bytes, GeneratedAvatars.ContentType(format), etag);
        _generated.AddOrUpdate(key, made);
        return made;
    }

    /// <summary>Hex of the SHA-256 of a user id: the seed of /avatars/{userId}'s generated defaults.</summary>
    public static string SeedOfUser(string userId) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(userId)));

    /// <summary>The ETag of a picture at an exact size and format (stored or not).</summary>
    public static string SizedETag(LivePicture picture, int size, AvatarFormat format) =>
        $"\"{picture.Tag}-{size}.{Extension(format)}\"";

    /// <summary>The picture at exactly size×size in this format; null when its files are gone.</summary>
    public async ValueTask<byte[]?> PictureAsync(LivePicture picture, int size, AvatarFormat format, string etag, CancellationToken ct)
    {
        var stored = StoredSlot(size, format, picture.HasAlpha);
        if (stored >= 0) return await variants.GetAsync(picture, stored, picture.ETag(stored, table), table, ct);
        if (variants.TryGet(etag, out var kept)) return kept;
        var source = SourceSlot(size, picture.HasAlpha);
        // Above the largest stored size (Pictures:Sizes may stop below 512), from the master.
        var bytes = size > table.Size(source)
            ? await variants.GetMasterAsync(picture, ct)
            : await variants.GetAsync(picture, source, picture.ETag(source, table), table, ct);
        if (bytes is null) return null;
        var resized = GeneratedAvatars.Resize(bytes, size, format);
        variants.Keep(etag, resized);
        return resized;
    }

    public async ValueTask<bool> DefaultHasAlphaAsync() => (await defaults.GetAsync()).Picture.HasAlpha;

    /// <summary>The copied default picture at exactly size×size in this format.</summary>
    public async ValueTask<Made> DefaultPictureAsync(int size, AvatarFormat format)
    {
        var prepared = await defaults.GetAsync();
        var hasAlpha = prepared.Picture.HasAlpha;
        var stored = StoredSlot(size, format, hasAlpha);
        if (stored >= 0) return new Made(prepared.Variants[stored].Bytes, prepared.Variants[stored].ContentType, prepared.Variants[stored].ETag);
        var etag = $"\"default-{prepared.Variants[0].ETag.Split('-')[1]}-{size}.{Extension(format)}\"";
        if (!variants.TryGet(etag, out var bytes))
        {
            var source = SourceSlot(size, hasAlpha);
            bytes = GeneratedAvatars.Resize(size > table.Size(source) ? prepared.Picture.Master.Bytes : prepared.Variants[source].Bytes, size, format);
            variants.Keep(etag, bytes);
        }
        return new Made(bytes!, GeneratedAvatars.ContentType(format), etag);
    }

    /// <summary>The slot holding exactly this size in this format, or -1.</summary>
    private int StoredSlot(int size, AvatarFormat format, bool hasAlpha)
    {
        var index = table.IndexOfSize(size);
        if (index < 0) return -1;
        return format switch
        {
            AvatarFormat.WebP => VariantTable.Slot(index, webp: true),
            AvatarFormat.Png when hasAlpha => VariantTable.Slot(index, webp: false),
            AvatarFormat.Jpeg when !hasAlpha => VariantTable.Slot(index, webp: false),
            _ => -1,
        };
    }

    /// <summary>The smallest stored size at least this large (else the largest), in its PNG or JPEG file.</summary>
    private int SourceSlot(int size, bool hasAlpha) => table.SlotFor(size, webp: false);
}

using ImagePictures.Api.Storage;
using ImagePictures.Imaging;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace ImagePictures.Api.Avatars;

/// <summary>
/// The bytes of variant files, kept in memory up to Avatars:VariantCacheBytes, so that a hot avatar
/// is answered without opening, reading and closing its file. Keyed by the variant's ETag (content
/// hash + file name): a picture's files never change once its folder is in place, so an entry can
/// never be stale; whether the picture is still live is the other caches' business. Least recently
/// used entries go first when the budget is reached.
/// </summary>
public sealed class VariantCache(PictureStore store, IOptions<AvatarOptions> options) : IDisposable
{
    public const int MaxFileBytes = 128 * 1024;
    public const int MaxMadeBytes = 1024 * 1024;
    private const int EntryOverhead = 128; // the entry and its key, roughly

    private readonly MemoryCache _bytes = new(new MemoryCacheOptions { SizeLimit = Math.Max(1, options.Value.VariantCacheBytes) });

    /// <summary>The variant's bytes, or null when its file is not there (purged meanwhile, or never written).</summary>
    public async ValueTask<byte[]?> GetAsync(LivePicture picture, int slot, string etag, VariantTable table, CancellationToken ct)
    {
        if (_bytes.TryGetValue(etag, out byte[]? hit)) return hit;
        var bytes = (await store.ReadPictureFileAsync(picture.UserId, picture.PictureId, table.FileName(slot, picture.HasAlpha), ct))?.Bytes;
        if (bytes is { Length: <= MaxFileBytes })
            _bytes.Set(etag, bytes, new MemoryCacheEntryOptions { Size = bytes.Length + EntryOverhead });
        return bytes;
    }

    /// <summary>Bytes made from a variant (a picture at a size that is not stored), by their ETag.</summary>
    public bool TryGet(string etag, out byte[]? bytes) => _bytes.TryGetValue(etag, out bytes);

    /// <summary>Unlike stored files, made bytes are kept up to 1 MB: making them again would cost a decode and an encode.</summary>
    public void Keep(string etag, byte[] bytes)
    {
        if (bytes.Length <= MaxMadeBytes) _bytes.Set(etag, bytes, new MemoryCacheEntryOptions { Size = bytes.Length + EntryOverhead });
    }

    /// <summary>The master (master.jpg or master.png), for sizes above the largest stored variant; kept like a made image.</summary>
    public async ValueTask<byte[]?> GetMasterAsync(LivePicture picture, CancellationToken ct)
    {
        var key = picture.Tag + "-master";
        if (_bytes.TryGetValue(key, out byte[]? hit)) return hit;
        var file = await store.ReadPictureFileAsync(picture.UserId, picture.PictureId, PictureFiles.Master(picture.HasAlpha), ct);
        if (file?.Bytes is { } bytes) Keep(key, bytes);
        return file?.Bytes;
    }

    public void Dispose() => _bytes.Dispose();
}

using System.Collections.Concurrent;
using ImagePictures.Api.Storage;

namespace ImagePictures.Api.Avatars;

/// <summary>
/// Keeps the bytes of small variant files in memory, so that a hot avatar is answered without
/// reading its file (or its object in the bucket) on every request. Safe because a picture's files
/// never change once written: a new picture has a new id and so new names. Whether a picture may be
/// served is decided before, by its row (variant route) or the active-picture map (avatar route),
/// both of which every trash, purge and account deletion changes.
/// Bounded: files above <see cref="MaxFileBytes"/> are never cached, and the map is cleared when full.
/// </summary>
public static class VariantFileCache
{
    public const int MaxFileBytes = 128 * 1024;
    private const long MaxTotalBytes = 64L * 1024 * 1024;
    private static readonly ConcurrentDictionary<(Guid, string), StoredFile> Map = new();
    private static long _total;

    /// <summary>The variant's bytes, from memory when seen before; null when the store has no such file.</summary>
    public static async ValueTask<StoredFile?> GetAsync(PictureStore store, string userId, Guid pictureId, string fileName, CancellationToken ct)
    {
        if (Map.TryGetValue((pictureId, fileName), out var hit)) return hit;
        var file = await store.ReadPictureFileAsync(userId, pictureId, fileName, ct);
        if (file is null || file.Bytes.Length > MaxFileBytes) return file;
        if (Interlocked.Add(ref _total, file.Bytes.Length) > MaxTotalBytes)
        {
            Map.Clear();
            Interlocked.Exchange(ref _total, file.Bytes.Length);
        }
        Map[(pictureId, fileName)] = file;
        return file;
    }
}

using System.Collections.Concurrent;

namespace ImagePictures.Api.Avatars;

/// <summary>
/// Keeps the bytes of small variant files in memory, so that a hot avatar is answered without
/// opening, reading and closing its file on every request (that cost most of the 200 path's time).
/// Safe because a picture's files never change once its folder is in place: a new picture has a new
/// id and so new paths. Callers still check that the file exists, so a purge is seen at once.
/// Bounded: files above <see cref="MaxFileBytes"/> are never cached, and the map is cleared when full.
/// </summary>
public static class VariantFileCache
{
    public const int MaxFileBytes = 128 * 1024;
    private const long MaxTotalBytes = 64L * 1024 * 1024;
    private static readonly ConcurrentDictionary<string, Entry> Map = new(StringComparer.Ordinal);
    private static long _total;

    public sealed record Entry(byte[] Bytes, DateTimeOffset LastModified);

    /// <summary>The file's bytes, from memory when seen before; null when it is too large to cache or unreadable.</summary>
    public static Entry? Get(string path)
    {
        if (Map.TryGetValue(path, out var hit)) return hit;
        try
        {
            var info = new FileInfo(path);
            if (!info.Exists || info.Length > MaxFileBytes) return null;
            var entry = new Entry(File.ReadAllBytes(path), info.LastWriteTimeUtc);
            if (Interlocked.Add(ref _total, entry.Bytes.Length) > MaxTotalBytes)
            {
                Map.Clear();
                Interlocked.Exchange(ref _total, entry.Bytes.Length);
            }
            Map[path] = entry;
            return entry;
        }
        catch (IOException) { return null; }
        catch (UnauthorizedAccessException) { return null; }
    }
}

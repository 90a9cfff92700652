using BitFaster.Caching.Lfu;
using BitFaster.Caching.Scheduler;

namespace ImagePictures.Api.Avatars;

/// <summary>
/// The memory behind <see cref="ActiveAvatarCache"/> and <see cref="LivePictureCache"/>: a bounded,
/// scan-resistant cache (W-TinyLFU: a new entry gets in only by being asked for more often than the
/// one it would replace, so a flood of random keys cannot evict the popular ones) of a picture or
/// "none". A generation counter stops a lookup that raced an invalidation from storing what it read.
/// </summary>
internal sealed class PictureLookupCache<TKey>(int capacity, IEqualityComparer<TKey> comparer) where TKey : notnull
{
    private readonly ConcurrentLfu<TKey, LivePicture> _cache = new(Environment.ProcessorCount, Math.Max(3, capacity), new ThreadPoolScheduler(), comparer);
    private long _generation, _queries;

    /// <summary>Lookups made through <see cref="LoadAsync"/> so far (tests and benchmarks read it).</summary>
    public long Queries => Interlocked.Read(ref _queries);

    /// <summary>True when the key is cached; <paramref name="picture"/> is then the picture, or null for "none".</summary>
    public bool TryGet(TKey key, out LivePicture? picture)
    {
        var hit = _cache.TryGet(key, out var cached);
        picture = hit && cached != LivePicture.None ? cached : null;
        return hit;
    }

    /// <summary>Runs the lookup and keeps its answer, unless an invalidation came while it ran.</summary>
    public async ValueTask<LivePicture?> LoadAsync(TKey key, Func<CancellationToken, Task<LivePicture?>> lookup, CancellationToken ct)
    {
        var generation = Interlocked.Read(ref _generation);
        Interlocked.Increment(ref _queries);
        var found = await lookup(ct) ?? LivePicture.None;
        if (Interlocked.Read(ref _generation) == generation)
        {
            _cache.AddOrUpdate(key, found);
            // An invalidation between the check and the store must still win.
            if (Interlocked.Read(ref _generation) != generation) _cache.TryRemove(key);
        }
        return found == LivePicture.None ? null : found;
    }

    public void Remove(TKey key)
    {
        Interlocked.Increment(ref _generation);
        _cache.TryRemove(key);
    }

    /// <summary>Removes every cached picture that matches (a scan: for rare events only).</summary>
    public void RemoveWhere(Func<LivePicture, bool> match)
    {
        Interlocked.Increment(ref _generation);
        foreach (var (key, picture) in _cache)
        {
            if (match(picture)) _cache.TryRemove(key);
        }
    }
}

using BitFaster.Caching.Lfu;
using BitFaster.Caching.Scheduler;
using Dapper;
using ImagePictures.Api.Realtime;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ImagePictures.Api.Avatars;

/// <summary>
/// Picture id → its owner and content hash while it is live, or "not live" (trashed, purged, never
/// existed), so that GET /pictures/{id}/{size} does not query the database per request. Bounded and
/// scan-resistant like <see cref="ActiveAvatarCache"/>. Exact: trashing and restoring invalidate the
/// picture, deleting an account every cached picture of that user, on this instance directly and on
/// the others through the event relay (<see cref="Apply"/>). A purge needs nothing: only trashed
/// pictures are purged, and they are already "not live".
/// </summary>
public sealed class LivePictureCache(NpgsqlDataSource db, VariantTable table, IOptions<AvatarCacheOptions> options)
{
    private const string LiveSql = "SELECT user_id AS UserId, content_hash AS ContentHash, has_alpha AS HasAlpha FROM pictures WHERE id = @id AND deleted_at IS NULL";

    private readonly ConcurrentLfu<Guid, PublicPicture> _cache = new(Environment.ProcessorCount, Math.Max(3, options.Value.PictureCacheEntries), new ThreadPoolScheduler(), EqualityComparer<Guid>.Default);
    private long _generation, _queries;

    private sealed record LiveRow(string UserId, string ContentHash, bool HasAlpha);

    /// <summary>Database lookups made so far (tests and benchmarks read it).</summary>
    internal long Queries => Interlocked.Read(ref _queries);

    /// <summary>The live picture, or null when it is trashed, purged or unknown.</summary>
    public async ValueTask<PublicPicture?> GetAsync(Guid pictureId, CancellationToken ct)
    {
        if (_cache.TryGet(pictureId, out var cached)) return cached == PublicPicture.None ? null : cached;

        var generation = Interlocked.Read(ref _generation);
        Interlocked.Increment(ref _queries);
        await using var conn = await db.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<LiveRow>(new CommandDefinition(LiveSql, new { id = pictureId }, cancellationToken: ct));
        var found = row is null ? PublicPicture.None : new PublicPicture(row.UserId, pictureId, row.ContentHash, row.HasAlpha, table.Count);
        if (Interlocked.Read(ref _generation) == generation)
        {
            _cache.AddOrUpdate(pictureId, found);
            if (Interlocked.Read(ref _generation) != generation) _cache.TryRemove(pictureId);
        }
        return found == PublicPicture.None ? null : found;
    }

    /// <summary>After a picture was trashed or restored (or anything else about it committed).</summary>
    public void Invalidate(Guid pictureId)
    {
        Interlocked.Increment(ref _generation);
        _cache.TryRemove(pictureId);
    }

    /// <summary>After an account deletion: every cached live picture of the user goes (a scan, but a rare one).</summary>
    public void InvalidateUser(string userId)
    {
        Interlocked.Increment(ref _generation);
        foreach (var (id, picture) in _cache)
        {
            if (picture.UserId == userId) _cache.TryRemove(id);
        }
    }

    /// <summary>What the event relay does with every event, from whichever instance.</summary>
    public void Apply(PictureEvent e)
    {
        if (e.Type == EventTypes.UserPicturesDeleted) InvalidateUser(e.UserId);
        else if (e.PictureId is { } id) Invalidate(id);
    }
}

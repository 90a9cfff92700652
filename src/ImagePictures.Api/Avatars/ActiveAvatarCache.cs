using System.Collections.Concurrent;
using Dapper;
using Npgsql;

namespace ImagePictures.Api.Avatars;

public sealed record ActiveAvatar(Guid PictureId, string ContentHash, bool HasAlpha);

/// <summary>
/// User → active picture, so that GET /avatars does not query the database on every request.
/// Every change invalidates its user (on this instance directly, on the others through the event
/// relay). A generation counter stops a read that raced an invalidation from storing a stale value.
/// </summary>
public sealed class ActiveAvatarCache(NpgsqlDataSource db)
{
    private const int MaxEntries = 200_000;
    private readonly ConcurrentDictionary<string, ActiveAvatar?> _map = new();
    private long _generation;

    public async ValueTask<ActiveAvatar?> GetAsync(string userId, CancellationToken ct)
    {
        var hit = _map.TryGetValue(userId, out var cached);
        Operations.PicturesMetrics.AvatarCacheLookup(hit);
        if (hit) return cached;
        var generation = Interlocked.Read(ref _generation);
        await using var conn = await db.OpenConnectionAsync(ct);
        var avatar = await conn.QuerySingleOrDefaultAsync<ActiveAvatar>("""
            SELECT p.id AS PictureId, p.content_hash AS ContentHash, p.has_alpha AS HasAlpha
            FROM active_pictures a JOIN pictures p ON p.id = a.picture_id
            WHERE a.user_id = @userId AND p.deleted_at IS NULL
            """, new { userId });
        if (_map.Count >= MaxEntries) _map.Clear();
        if (Interlocked.Read(ref _generation) == generation) _map[userId] = avatar;
        return avatar;
    }

    public void Invalidate(string userId)
    {
        Interlocked.Increment(ref _generation);
        _map.TryRemove(userId, out _);
    }

    public void Clear()
    {
        Interlocked.Increment(ref _generation);
        _map.Clear();
    }
}

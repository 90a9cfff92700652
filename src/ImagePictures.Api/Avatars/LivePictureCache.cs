using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ImagePictures.Api.Avatars;

/// <summary>
/// Picture id → its owner and content hash while it is live, or "not live" (trashed, purged, never
/// existed), so that GET /pictures/{id}/{size} does not query the database per request. Bounded and
/// scan-resistant (<see cref="PictureLookupCache{TKey}"/>). Exact: trashing and restoring invalidate the
/// picture, deleting an account every cached picture of that user, on this instance directly and on
/// the others through the event relay (<see cref="Apply"/>). A purge needs nothing: only trashed
/// pictures are purged, and they are already "not live".
/// </summary>
public sealed class LivePictureCache(NpgsqlDataSource db, VariantTable table, IOptions<AvatarOptions> options)
{
    private const string LiveSql = "SELECT user_id AS UserId, content_hash AS ContentHash, has_alpha AS HasAlpha FROM pictures WHERE id = @id AND deleted_at IS NULL";

    private readonly PictureLookupCache<Guid> _cache = new(options.Value.PictureCacheEntries, EqualityComparer<Guid>.Default);

    private sealed record LiveRow(string UserId, string ContentHash, bool HasAlpha);

    /// <summary>Database lookups made so far (tests and benchmarks read it).</summary>
    internal long Queries => _cache.Queries;

    /// <summary>The live picture, or null when it is trashed, purged or unknown.</summary>
    public ValueTask<LivePicture?> GetAsync(Guid pictureId, CancellationToken ct) =>
        _cache.TryGet(pictureId, out var cached) ? ValueTask.FromResult(cached) : _cache.LoadAsync(pictureId, async token =>
        {
            await using var conn = await db.OpenConnectionAsync(token);
            var row = await conn.QuerySingleOrDefaultAsync<LiveRow>(new CommandDefinition(LiveSql, new { id = pictureId }, cancellationToken: token));
            return row is null ? null : new LivePicture(row.UserId, pictureId, row.ContentHash, row.HasAlpha, table.Count);
        }, ct);

    /// <summary>After a picture was trashed or restored (or anything else about it committed).</summary>
    public void Invalidate(Guid pictureId) => _cache.Remove(pictureId);

    /// <summary>After an account deletion: every cached live picture of the user goes (a scan, but a rare one).</summary>
    public void InvalidateUser(string userId) => _cache.RemoveWhere(p => p.UserId == userId);

    /// <summary>What the event relay does with every event, from whichever instance.</summary>
    public void Apply(PictureEvent e)
    {
        if (e.Type == EventTypes.UserPicturesDeleted) InvalidateUser(e.UserId);
        else if (e.PictureId is { } id) Invalidate(id);
    }
}

using ImagePictures.Api.Avatars;
using ImagePictures.Api.EventLog;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Storage;
using ImagePictures.Api.Users;
using Microsoft.Extensions.Options;

namespace ImagePictures.Api.Trash;

/// <summary>
/// A user's trash: moving a picture there, restoring it, purging one or all. Each is a
/// <see cref="UserChange"/>; a purge deletes the files first and the row after, so a storage failure
/// keeps the row and the next purge retries. The scheduled purge is <see cref="TrashPurgeJob"/>.
/// </summary>
public sealed class TrashService(
    UserChanges changes, PictureService pictures, PictureStore store, ActiveAvatarCache avatars, LivePictureCache livePictures, IOptionsMonitor<TrashOptions> options)
{

    public sealed record PurgeCounts(int Found, int Deleted, int Failed);

    public Task<IReadOnlyList<PictureJson>> ListAsync(string userId, CancellationToken ct) => pictures.ListAsync(userId, trashed: true, ct);

    /// <summary>Moves a picture to the trash; if it was active, the newest other live picture takes over.</summary>
    public async Task<PictureJson?> TrashAsync(string userId, Guid pictureId, CancellationToken ct)
    {
        await using var change = await changes.BeginAsync(userId, ct);
        var before = await PictureService.FindAsync(change, pictureId, trashed: false);
        if (before is null) return null;
        await change.ExecuteAsync("""
            UPDATE pictures SET deleted_at = now(), purge_after = now() + make_interval(days => @days)
            WHERE id = @pictureId
            """, new { pictureId, days = options.CurrentValue.RetentionDays });
        if (!before.IsActive)
        {
            var picture = await pictures.RecordAndCommitAsync(change, EventTypes.PictureTrashed, pictureId, trashed: true, ct);
            livePictures.Invalidate(pictureId);
            return picture;
        }

        await change.ExecuteAsync("DELETE FROM active_pictures WHERE user_id = @userId", new { userId });
        var next = await change.ScalarAsync<Guid?>("""
            SELECT id FROM pictures WHERE user_id = @userId AND deleted_at IS NULL
            ORDER BY created_at DESC, id LIMIT 1
            """, new { userId });
        if (next is { } nextId) await PictureService.SetActiveRowAsync(change, nextId);
        var nextRow = next is { } n ? await PictureService.FindAsync(change, n, trashed: false) : null;
        var trashed = pictures.Json((await PictureService.FindAsync(change, pictureId, trashed: true))!);
        await change.RecordAsync(EventTypes.PictureTrashed, pictureId, trashed);
        await change.RecordAsync(EventTypes.ActivePictureChanged, next, nextRow is null ? null : pictures.Json(nextRow));
        await change.CommitAsync(ct);
        avatars.Invalidate(userId);
        livePictures.Invalidate(pictureId);
        return trashed;
    }

    /// <summary>Back from the trash; a restored picture is not made active by itself.</summary>
    public async Task<PictureJson?> RestoreAsync(string userId, Guid pictureId, CancellationToken ct)
    {
        await using var change = await changes.BeginAsync(userId, ct);
        var updated = await change.ExecuteAsync("""
            UPDATE pictures SET deleted_at = NULL, purge_after = NULL
            WHERE id = @pictureId AND user_id = @userId AND deleted_at IS NOT NULL
            """, new { userId, pictureId });
        if (updated == 0) return null;
        var picture = await pictures.RecordAndCommitAsync(change, EventTypes.PictureRestored, pictureId, trashed: false, ct);
        livePictures.Invalidate(pictureId);
        return picture;
    }

    /// <summary>
    /// Purges one trashed picture: files first, row after. If the files cannot be deleted the row
    /// stays (the StorageException becomes 503) and the next purge retries.
    /// </summary>
    public async Task<bool> PurgeAsync(string userId, Guid pictureId, CancellationToken ct)
    {
        await using var change = await changes.BeginAsync(userId, ct);
        // The row lock makes a concurrent restore wait, so it can never revive a picture whose files are going.
        var locked = await change.ScalarAsync<Guid?>(
            "SELECT id FROM pictures WHERE id = @pictureId AND user_id = @userId AND deleted_at IS NOT NULL FOR UPDATE",
            new { userId, pictureId });
        if (locked is null) return false;
        await store.DeletePictureAsync(userId, pictureId, ct);
        await change.ExecuteAsync("DELETE FROM pictures WHERE id = @pictureId", new { pictureId });
        await change.RecordAsync(EventTypes.PicturePurged, pictureId, null);
        await change.CommitAsync(ct);
        return true;
    }

    /// <summary>
    /// Empties the trash like a purge of each picture: under the user lock and the rows' locks (so a
    /// restore waits), files first, then the rows with their events in one statement. A picture whose
    /// files cannot be deleted is counted as failed and keeps its row.
    /// </summary>
    public async Task<PurgeCounts> EmptyAsync(string userId, CancellationToken ct)
    {
        await using var change = await changes.BeginAsync(userId, ct);
        var ids = (await change.QueryAsync<Guid>(
            "SELECT id FROM pictures WHERE user_id = @userId AND deleted_at IS NOT NULL FOR UPDATE", new { userId })).ToArray();
        var gone = await store.DeletePicturesAsync(ids.Select(id => (id, userId)).ToList(), ct);
        await change.ExecuteAsync("DELETE FROM pictures WHERE id = ANY(@ids)", new { ids = gone.ToArray() });
        await EventWriter.AppendManyAsync(change.Transaction, EventTypes.PicturePurged, gone.Select(id => (id, userId)).ToList());
        await change.CommitAsync(ct);
        return new PurgeCounts(ids.Length, gone.Count, ids.Length - gone.Count);
    }
}

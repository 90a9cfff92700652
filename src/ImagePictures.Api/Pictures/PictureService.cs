using Dapper;
using ImagePictures.Api.Avatars;
using ImagePictures.Api.Realtime;
using ImagePictures.Api.Storage;
using ImagePictures.Api.Uploads;
using ImagePictures.Imaging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ImagePictures.Api.Pictures;

/// <summary>
/// Every change to a user's pictures: files first, then the row and its event in one transaction.
/// A per-user advisory lock serialises the changes of one user (quota, active picture, default).
/// </summary>
public sealed class PictureService(
    NpgsqlDataSource db, PictureStore store, ActiveAvatarCache avatars, LivePictureCache livePictures, IOptions<PictureOptions> options,
    UploadSessions uploads, IConfiguration config, ILogger<PictureService> log)
{
    /// <summary>
    /// Run by <see cref="CreateAsync"/> inside its transaction, under the user lock, before the
    /// picture's row goes in; it throws to abandon the picture (a staged upload that went meanwhile).
    /// </summary>
    public delegate Task Claim(NpgsqlTransaction tx, Guid pictureId);

    private PictureOptions Options => options.Value;
    private int RetentionDays => config.GetValue("Trash:RetentionDays", 30);

    public const string Columns = """
        p.id, p.user_id, p.is_default, p.title, p.width, p.height, p.bytes, p.content_hash, p.has_alpha,
        p.created_at, p.deleted_at, p.purge_after,
        EXISTS (SELECT 1 FROM active_pictures a WHERE a.picture_id = p.id) AS is_active
        """;

    /// <summary>The per-user lock, held to the end of the transaction; staged uploads take it too.</summary>
    internal const string LockUserSql = "SELECT pg_advisory_xact_lock(hashtextextended(@userId, 7))";

    public PictureJson Json(PictureRow row) => PictureJson.From(row, Options.Sizes);

    public async Task<IReadOnlyList<PictureJson>> ListAsync(string userId, bool trashed, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<PictureRow>($"""
            SELECT {Columns} FROM pictures p
            WHERE p.user_id = @userId AND (p.deleted_at IS NOT NULL) = @trashed
            ORDER BY {(trashed ? "p.deleted_at DESC," : "")} p.created_at DESC, p.id
            """, new { userId, trashed });
        return rows.Select(Json).ToList();
    }

    public async Task<PictureRow?> FindAsync(string userId, Guid pictureId, bool? trashed, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await FindAsync(conn, null, userId, pictureId, trashed);
    }

    private static Task<PictureRow?> FindAsync(NpgsqlConnection conn, NpgsqlTransaction? tx, string userId, Guid pictureId, bool? trashed) =>
        conn.QuerySingleOrDefaultAsync<PictureRow>($"""
            SELECT {Columns} FROM pictures p
            WHERE p.id = @pictureId AND p.user_id = @userId
              AND (@trashed::boolean IS NULL OR (p.deleted_at IS NOT NULL) = @trashed)
            """, new { userId, pictureId, trashed }, tx);

    public async Task<PictureRow?> ActiveAsync(string userId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<PictureRow>($"""
            SELECT {Columns} FROM active_pictures a JOIN pictures p ON p.id = a.picture_id
            WHERE a.user_id = @userId AND p.deleted_at IS NULL
            """, new { userId });
    }

    /// <summary>Cheap check before decoding, so a full quota costs no CPU. The transaction checks again.</summary>
    public async Task EnsureQuotaAsync(string userId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var count = await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM pictures WHERE user_id = @userId", new { userId });
        if (count >= Options.MaxPicturesPerUser) throw new QuotaExceededException(Options.MaxPicturesPerUser);
    }

    /// <summary>
    /// Stores a normalised picture: its files are written to a staging folder first (outside the
    /// lock), then under the user lock the row is inserted, the folder is published into place and the
    /// transaction commits. Publishing under the lock orders it with an account deletion, which takes
    /// the same lock before it touches files: either this picture is in place before the deletion
    /// starts (and goes with it, whole) or it is published after the deletion committed (and stays,
    /// whole). If anything fails, the staged or published files are removed.
    /// For the default picture an existing one is returned instead (Created = false).
    /// </summary>
    public async Task<(PictureJson Picture, bool Created)> CreateAsync(
        string userId, NormalizedPicture picture, string? title, bool activate, bool isDefault, CancellationToken ct, Claim? claim = null)
    {
        var id = Guid.NewGuid();
        await store.StagePictureAsync(userId, id, [picture.Master, .. picture.Files], ct);
        var published = false;
        var committed = false;
        try
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            await conn.ExecuteAsync(LockUserSql, new { userId }, tx);
            try
            {
                if (isDefault)
                {
                    var existing = await conn.QuerySingleOrDefaultAsync<PictureRow>(
                        $"SELECT {Columns} FROM pictures p WHERE p.user_id = @userId AND p.is_default", new { userId }, tx);
                    if (existing is not null) return (Json(existing), false);
                }

                if (claim is not null) await claim(tx, id);
                var count = await conn.ExecuteScalarAsync<int>("SELECT count(*) FROM pictures WHERE user_id = @userId", new { userId }, tx);
                if (count >= Options.MaxPicturesPerUser) throw new QuotaExceededException(Options.MaxPicturesPerUser);

                var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(picture.Master.Bytes));
                await conn.ExecuteAsync("""
                    INSERT INTO pictures (id, user_id, is_default, title, width, height, bytes, content_hash, has_alpha)
                    VALUES (@id, @userId, @isDefault, @title, @Width, @Height, @bytes, @hash, @HasAlpha)
                    """, new { id, userId, isDefault, title, picture.Width, picture.Height, bytes = (long)picture.Master.Bytes.Length, hash, picture.HasAlpha }, tx);

                var hasActive = await conn.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM active_pictures WHERE user_id = @userId)", new { userId }, tx);
                var makeActive = activate || (isDefault && !hasActive);
                if (makeActive) await SetActiveRowAsync(conn, tx, userId, id);

                var row = (await FindAsync(conn, tx, userId, id, trashed: false))!;
                await EventLog.AppendAsync(tx, EventTypes.PictureUploaded, userId, id, Json(row));
                if (makeActive) await EventLog.AppendAsync(tx, EventTypes.ActivePictureChanged, userId, id, Json(row));
                await store.PublishPictureAsync(userId, id, ct);
                published = true;
                await tx.CommitAsync(ct);
                committed = true;
                if (makeActive) avatars.Invalidate(userId);
                return (Json(row), true);
            }
            finally
            {
                // Still under the lock: no deletion of this user can run between the commit failing and this clean-up.
                if (!committed && published) await DeleteQuietlyAsync(userId, id);
            }
        }
        finally
        {
            if (!published) await store.DiscardStagedPictureAsync(userId, id);
        }
    }

    public async Task<PictureJson?> RenameAsync(string userId, Guid pictureId, string? title, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(LockUserSql, new { userId }, tx);
        var updated = await conn.ExecuteAsync(
            "UPDATE pictures SET title = @title WHERE id = @pictureId AND user_id = @userId AND deleted_at IS NULL",
            new { userId, pictureId, title }, tx);
        if (updated == 0) return null;
        var row = (await FindAsync(conn, tx, userId, pictureId, trashed: false))!;
        await EventLog.AppendAsync(tx, EventTypes.PictureUpdated, userId, pictureId, Json(row));
        await tx.CommitAsync(ct);
        return Json(row);
    }

    public async Task<PictureJson?> SetActiveAsync(string userId, Guid pictureId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(LockUserSql, new { userId }, tx);
        if (await FindAsync(conn, tx, userId, pictureId, trashed: false) is null) return null;
        await SetActiveRowAsync(conn, tx, userId, pictureId);
        var row = (await FindAsync(conn, tx, userId, pictureId, trashed: false))!;
        await EventLog.AppendAsync(tx, EventTypes.ActivePictureChanged, userId, pictureId, Json(row));
        await tx.CommitAsync(ct);
        avatars.Invalidate(userId);
        return Json(row);
    }

    /// <summary>Moves a picture to the trash; if it was active, the newest other live picture takes over.</summary>
    public async Task<PictureJson?> TrashAsync(string userId, Guid pictureId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(LockUserSql, new { userId }, tx);
        var before = await FindAsync(conn, tx, userId, pictureId, trashed: false);
        if (before is null) return null;
        await conn.ExecuteAsync("""
            UPDATE pictures SET deleted_at = now(), purge_after = now() + make_interval(days => @days)
            WHERE id = @pictureId
            """, new { pictureId, days = RetentionDays }, tx);
        if (before.IsActive)
        {
            await conn.ExecuteAsync("DELETE FROM active_pictures WHERE user_id = @userId", new { userId }, tx);
            var next = await conn.QuerySingleOrDefaultAsync<Guid?>("""
                SELECT id FROM pictures WHERE user_id = @userId AND deleted_at IS NULL
                ORDER BY created_at DESC, id LIMIT 1
                """, new { userId }, tx);
            if (next is { } nextId) await SetActiveRowAsync(conn, tx, userId, nextId);
            var nextRow = next is { } n ? await FindAsync(conn, tx, userId, n, trashed: false) : null;
            var trashedRow = (await FindAsync(conn, tx, userId, pictureId, trashed: true))!;
            await EventLog.AppendAsync(tx, EventTypes.PictureTrashed, userId, pictureId, Json(trashedRow));
            await EventLog.AppendAsync(tx, EventTypes.ActivePictureChanged, userId, next, nextRow is null ? null : Json(nextRow));
            await tx.CommitAsync(ct);
            avatars.Invalidate(userId);
            livePictures.Invalidate(pictureId);
            return Json(trashedRow);
        }
        var row = (await FindAsync(conn, tx, userId, pictureId, trashed: true))!;
        await EventLog.AppendAsync(tx, EventTypes.PictureTrashed, userId, pictureId, Json(row));
        await tx.CommitAsync(ct);
        livePictures.Invalidate(pictureId);
        return Json(row);
    }

    /// <summary>Back from the trash; a restored picture is not made active by itself.</summary>
    public async Task<PictureJson?> RestoreAsync(string userId, Guid pictureId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(LockUserSql, new { userId }, tx);
        var updated = await conn.ExecuteAsync("""
            UPDATE pictures SET deleted_at = NULL, purge_after = NULL
            WHERE id = @pictureId AND user_id = @userId AND deleted_at IS NOT NULL
            """, new { userId, pictureId }, tx);
        if (updated == 0) return null;
        var row = (await FindAsync(conn, tx, userId, pictureId, trashed: false))!;
        await EventLog.AppendAsync(tx, EventTypes.PictureRestored, userId, pictureId, Json(row));
        await tx.CommitAsync(ct);
        livePictures.Invalidate(pictureId);
        return Json(row);
    }

    /// <summary>
    /// Purges one trashed picture: files first, row after. If the files cannot be deleted the row
    /// stays (the StorageException becomes 503) and the next purge retries.
    /// </summary>
    public async Task<bool> PurgeAsync(string userId, Guid pictureId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(LockUserSql, new { userId }, tx);
        // The row lock makes a concurrent restore wait, so it can never revive a picture whose files are going.
        var locked = await conn.ExecuteScalarAsync<Guid?>(
            "SELECT id FROM pictures WHERE id = @pictureId AND user_id = @userId AND deleted_at IS NOT NULL FOR UPDATE",
            new { userId, pictureId }, tx);
        if (locked is null) return false;
        await store.DeletePictureAsync(userId, pictureId, ct);
        await conn.ExecuteAsync("DELETE FROM pictures WHERE id = @pictureId", new { pictureId }, tx);
        await EventLog.AppendAsync(tx, EventTypes.PicturePurged, userId, pictureId, null);
        await tx.CommitAsync(ct);
        return true;
    }

    public sealed record PurgeCounts(int Found, int Deleted, int Failed);

    /// <summary>
    /// Empties the trash like a purge of each picture: under the user lock and the rows' locks (so a
    /// restore waits), files first, then the rows with their events in one statement. A picture whose
    /// files cannot be deleted is counted as failed and keeps its row.
    /// </summary>
    public async Task<PurgeCounts> EmptyTrashAsync(string userId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(LockUserSql, new { userId }, tx);
        var ids = (await conn.QueryAsync<Guid>(
            "SELECT id FROM pictures WHERE user_id = @userId AND deleted_at IS NOT NULL FOR UPDATE", new { userId }, tx)).ToArray();
        var gone = await store.DeletePicturesAsync(ids.Select(id => (id, userId)).ToList(), ct);
        await conn.ExecuteAsync("DELETE FROM pictures WHERE id = ANY(@ids)", new { ids = gone.ToArray() }, tx);
        await EventLog.AppendManyAsync(tx, EventTypes.PicturePurged, gone.Select(id => (id, userId)).ToList());
        await tx.CommitAsync(ct);
        return new PurgeCounts(ids.Length, gone.Count, ids.Length - gone.Count);
    }

    /// <summary>
    /// Account deletion: every picture, live and trashed, every staged upload, every file and the
    /// folder. Under the user lock before any file is touched, so no upload of this user publishes its
    /// folder or commits a staged upload meanwhile. The folder is detached in one rename, then the rows
    /// go; if they cannot, the folder is put back. The staged uploads' files go after their rows.
    /// </summary>
    public async Task<int> DeleteUserAsync(string userId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync(LockUserSql, new { userId }, tx);
        var detached = await store.DetachUserAsync(userId, ct);
        int deleted;
        Guid[] staged;
        try
        {
            await conn.ExecuteAsync("DELETE FROM active_pictures WHERE user_id = @userId", new { userId }, tx);
            deleted = await conn.ExecuteAsync("DELETE FROM pictures WHERE user_id = @userId", new { userId }, tx);
            // Its e-mail hashes go with the account (UserPicturesDeleted tells every instance's hash index).
            await conn.ExecuteAsync("DELETE FROM user_emails WHERE user_id = @userId", new { userId }, tx);
            staged = await UploadSessions.DeleteRowsOfUserAsync(tx, userId);
            await EventLog.AppendAsync(tx, EventTypes.UserPicturesDeleted, userId, null, null);
            await tx.CommitAsync(ct);
        }
        catch when (detached is not null)
        {
            if (!store.ReattachUser(userId, detached))
                log.LogError("Account deletion of {UserId} failed after its folder was detached and it could not be put back; repeat the deletion", userId);
            throw;
        }
        if (detached is not null) store.RemoveDetached(detached);
        await uploads.DeleteFilesQuietlyAsync(staged);
        avatars.Invalidate(userId);
        livePictures.InvalidateUser(userId);
        return deleted;
    }

    private static Task SetActiveRowAsync(NpgsqlConnection conn, NpgsqlTransaction tx, string userId, Guid pictureId) =>
        conn.ExecuteAsync("""
            INSERT INTO active_pictures (user_id, picture_id) VALUES (@userId, @pictureId)
            ON CONFLICT (user_id) DO UPDATE SET picture_id = EXCLUDED.picture_id
            """, new { userId, pictureId }, tx);

    private async Task DeleteQuietlyAsync(string userId, Guid pictureId)
    {
        try { await store.DeletePictureAsync(userId, pictureId, CancellationToken.None); }
        catch (Exception e) { log.LogWarning(e, "Left an orphan folder for picture {PictureId}; orphan-sweep removes it", pictureId); }
    }
}

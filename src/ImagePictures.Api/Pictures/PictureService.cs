using Dapper;
using ImagePictures.Api.Avatars;
using ImagePictures.Api.Storage;
using ImagePictures.Api.Users;
using ImagePictures.Imaging;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ImagePictures.Api.Pictures;

/// <summary>
/// A user's live pictures: list, upload, rename, choose the active one. Every change runs as a
/// <see cref="UserChange"/> (under the user's lock, with its events): files first, then the row.
/// The trash is <see cref="Trash.TrashService"/>, account deletion <see cref="Users.UserService"/>.
/// </summary>
public sealed class PictureService(
    NpgsqlDataSource db, UserChanges changes, PictureStore store, ActiveAvatarCache avatars, IOptions<PictureOptions> options,
    ILogger<PictureService> log)
{
    /// <summary>
    /// Run by <see cref="CreateAsync"/> inside its transaction, under the user lock, before the
    /// picture's row goes in; it throws to abandon the picture (a staged upload that went meanwhile).
    /// </summary>
    public delegate Task Claim(NpgsqlTransaction tx, Guid pictureId);

    private PictureOptions Options => options.Value;

    public const string Columns = """
        p.id, p.user_id, p.is_default, p.title, p.width, p.height, p.bytes, p.content_hash, p.has_alpha,
        p.created_at, p.deleted_at, p.purge_after,
        EXISTS (SELECT 1 FROM active_pictures a WHERE a.picture_id = p.id) AS is_active
        """;

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

    /// <summary>The row as the change sees it (after its own updates).</summary>
    public static Task<PictureRow?> FindAsync(UserChange change, Guid pictureId, bool? trashed) =>
        FindAsync(change.Connection, change.Transaction, change.UserId, pictureId, trashed);

    /// <summary>Records <paramref name="type"/> with the picture as the change left it, commits, and returns the picture.</summary>
    public async Task<PictureJson> RecordAndCommitAsync(UserChange change, string type, Guid pictureId, bool trashed, CancellationToken ct)
    {
        var picture = Json((await FindAsync(change, pictureId, trashed))!);
        await change.RecordAsync(type, pictureId, picture);
        await change.CommitAsync(ct);
        return picture;
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
            await using var change = await changes.BeginAsync(userId, ct);
            try
            {
                if (isDefault)
                {
                    var existing = (await change.QueryAsync<PictureRow>(
                        $"SELECT {Columns} FROM pictures p WHERE p.user_id = @userId AND p.is_default", new { userId })).SingleOrDefault();
                    if (existing is not null) return (Json(existing), false);
                }

                if (claim is not null) await claim(change.Transaction, id);
                var count = await change.ScalarAsync<int>("SELECT count(*) FROM pictures WHERE user_id = @userId", new { userId });
                if (count >= Options.MaxPicturesPerUser) throw new QuotaExceededException(Options.MaxPicturesPerUser);

                var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(picture.Master.Bytes));
                await change.ExecuteAsync("""
                    INSERT INTO pictures (id, user_id, is_default, title, width, height, bytes, content_hash, has_alpha)
                    VALUES (@id, @userId, @isDefault, @title, @Width, @Height, @bytes, @hash, @HasAlpha)
                    """, new { id, userId, isDefault, title, picture.Width, picture.Height, bytes = (long)picture.Master.Bytes.Length, hash, picture.HasAlpha });

                var hasActive = await change.ScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM active_pictures WHERE user_id = @userId)", new { userId });
                var makeActive = activate || (isDefault && !hasActive);
                if (makeActive) await SetActiveRowAsync(change, id);

                var json = Json((await FindAsync(change, id, trashed: false))!);
                await change.RecordAsync(EventTypes.PictureUploaded, id, json);
                if (makeActive) await change.RecordAsync(EventTypes.ActivePictureChanged, id, json);
                await store.PublishPictureAsync(userId, id, ct);
                published = true;
                await change.CommitAsync(ct);
                committed = true;
                if (makeActive) avatars.Invalidate(userId);
                return (json, true);
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
        await using var change = await changes.BeginAsync(userId, ct);
        var updated = await change.ExecuteAsync(
            "UPDATE pictures SET title = @title WHERE id = @pictureId AND user_id = @userId AND deleted_at IS NULL",
            new { userId, pictureId, title });
        if (updated == 0) return null;
        return await RecordAndCommitAsync(change, EventTypes.PictureUpdated, pictureId, trashed: false, ct);
    }

    public async Task<PictureJson?> SetActiveAsync(string userId, Guid pictureId, CancellationToken ct)
    {
        await using var change = await changes.BeginAsync(userId, ct);
        if (await FindAsync(change, pictureId, trashed: false) is null) return null;
        await SetActiveRowAsync(change, pictureId);
        var picture = await RecordAndCommitAsync(change, EventTypes.ActivePictureChanged, pictureId, trashed: false, ct);
        avatars.Invalidate(userId);
        return picture;
    }

    public static Task SetActiveRowAsync(UserChange change, Guid pictureId) =>
        change.ExecuteAsync("""
            INSERT INTO active_pictures (user_id, picture_id) VALUES (@userId, @pictureId)
            ON CONFLICT (user_id) DO UPDATE SET picture_id = EXCLUDED.picture_id
            """, new { userId = change.UserId, pictureId });

    private async Task DeleteQuietlyAsync(string userId, Guid pictureId)
    {
        try { await store.DeletePictureAsync(userId, pictureId, CancellationToken.None); }
        catch (Exception e) { log.LogWarning(e, "Left an orphan folder for picture {PictureId}; orphan-sweep removes it", pictureId); }
    }
}

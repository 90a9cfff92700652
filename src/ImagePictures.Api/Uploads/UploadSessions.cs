using Dapper;
using ImagePictures.Api.Hosting;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Storage;
using ImagePictures.Imaging;
using Microsoft.Extensions.Options;
using Npgsql;

using ImagePictures.Api.Users;

namespace ImagePictures.Api.Uploads;

/// <summary>A row of staged_uploads.</summary>
public sealed record StagedUploadRow
{
    public Guid Id { get; init; }
    public string UserId { get; init; } = "";
    public DateTime CreatedAt { get; init; }
    public DateTime ExpiresAt { get; init; }
    public int Width { get; init; }
    public int Height { get; init; }
    public long Bytes { get; init; }
    public string FileName { get; init; } = "";
    public DateTime? CommittedAt { get; init; }
    public Guid? PictureId { get; init; }
}


/// <summary>A user already holds Uploads:MaxStagedPerUser open staged uploads.</summary>
public sealed class StagedUploadLimitException(int max)
    : Exception($"You already have {max} staged uploads waiting. Commit or delete one (DELETE /api/uploads/{{id}}) before staging another, or wait until they expire.");

/// <summary>The upload went while it was being committed or read (committed meanwhile, deleted with its account, or expired).</summary>
public sealed class UploadGoneException(UploadSessions.CommitState state) : Exception("The staged upload is gone.")
{
    public UploadSessions.CommitState State { get; } = state;
}

/// <summary>
/// Staged uploads: the files under temp/{id}/ are written first and the row after, so a row always
/// has its files; deleting goes the other way round (files, then row), so a failed delete keeps the
/// row and a later cleanup retries. Staging, committing and account deletion take the user's lock
/// (<see cref="UserChanges"/>), so the open-upload cap holds and a deleted account's
/// upload can never be committed.
/// </summary>
public sealed class UploadSessions(
    NpgsqlDataSource db, UserChanges changes, PictureStore store, IOptionsMonitor<UploadOptions> options, ILogger<UploadSessions> log)
{
    private const string OpenCountSql =
        "SELECT count(*) FROM staged_uploads WHERE user_id = @userId AND committed_at IS NULL AND expires_at > now()";

    private const string Columns = "id, user_id, created_at, expires_at, width, height, bytes, file_name, committed_at, picture_id";

    /// <summary>Read per call, so that a changed appsettings.json applies without a restart.</summary>
    public TimeSpan Ttl => TimeSpan.FromHours(options.CurrentValue.TempTtlHours);

    private int MaxStaged => options.CurrentValue.MaxStagedPerUser;

    /// <summary>Cheap check before decoding, so a user at the cap costs no CPU. <see cref="StageAsync"/> checks again under the lock.</summary>
    public async Task EnsureRoomAsync(string userId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        if (await conn.ExecuteScalarAsync<int>(OpenCountSql, new { userId }) >= MaxStaged) throw new StagedUploadLimitException(MaxStaged);
    }

    public async Task<StagedUploadRow> StageAsync(string userId, StagedImage staged, CancellationToken ct)
    {
        var id = Guid.NewGuid();
        await store.WriteUploadAsync(id, [staged.Image], ct);
        try
        {
            await using var change = await changes.BeginAsync(userId, ct);
            if (await change.ScalarAsync<int>(OpenCountSql, new { userId }) >= MaxStaged) throw new StagedUploadLimitException(MaxStaged);
            var row = await change.Connection.QuerySingleAsync<StagedUploadRow>($"""
                INSERT INTO staged_uploads (id, user_id, expires_at, width, height, bytes, file_name)
                VALUES (@id, @userId, now() + make_interval(secs => @ttlSeconds), @Width, @Height, @bytes, @fileName)
                RETURNING {Columns}
                """, new { id, userId, ttlSeconds = Ttl.TotalSeconds, staged.Width, staged.Height, bytes = (long)staged.Image.Bytes.Length, fileName = staged.Image.FileName }, change.Transaction);
            await change.CommitAsync(ct);
            return row;
        }
        catch
        {
            await DeleteFilesQuietlyAsync(id);
            throw;
        }
    }

    /// <summary>The caller's own live (uncommitted, unexpired) upload, or null: another user's upload does not exist for the caller.</summary>
    public async Task<StagedUploadRow?> FindLiveAsync(string userId, Guid id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<StagedUploadRow>($"""
            SELECT {Columns} FROM staged_uploads
            WHERE id = @id AND user_id = @userId AND committed_at IS NULL AND expires_at > now()
            """, new { id, userId });
    }

    /// <summary>
    /// The staged image. The row is committed only after its files are in place, so a missing file is
    /// a storage fault, unless the upload went meanwhile (<see cref="UploadGoneException"/>).
    /// </summary>
    public async Task<StoredFile> ReadFileAsync(StagedUploadRow row, CancellationToken ct)
    {
        if (await store.ReadUploadFileAsync(row.Id, row.FileName, ct) is { } file) return file;
        var now = await FindAnyAsync(row.Id, ct);
        if (now is null || now.ExpiresAt <= DateTime.UtcNow) throw new UploadGoneException(CommitState.NotFound);
        if (now.CommittedAt is not null) throw new UploadGoneException(CommitState.AlreadyCommitted);
        throw new StorageException("The staged image could not be read from storage.");
    }

    public enum CommitState { Committed, NotFound, AlreadyCommitted }

    /// <summary>
    /// Commits: <paramref name="create"/> makes the picture and calls the claim it is given inside its
    /// transaction, under the user's lock, before the picture's row goes in. The claim marks the upload
    /// committed, or throws when it has gone meanwhile: a second concurrent commit then answers 409,
    /// and a commit queued behind the account's deletion 404, with its picture undone. If
    /// <paramref name="create"/> throws anything else, the upload is unchanged and the caller may retry.
    /// </summary>
    public async Task<(CommitState State, T? Result)> CommitAsync<T>(string userId, Guid id,
        Func<StagedUploadRow, PictureService.Claim, Task<T>> create, CancellationToken ct) where T : class
    {
        StagedUploadRow? row;
        await using (var conn = await db.OpenConnectionAsync(ct))
            row = await conn.QuerySingleOrDefaultAsync<StagedUploadRow>(
                $"SELECT {Columns} FROM staged_uploads WHERE id = @id AND user_id = @userId", new { id, userId });
        if (row is null) return (CommitState.NotFound, null);
        if (row.CommittedAt is not null) return (CommitState.AlreadyCommitted, null);
        if (row.ExpiresAt <= DateTime.UtcNow) return (CommitState.NotFound, null);
        T result;
        try { result = await create(row, (tx, pictureId) => ClaimAsync(tx, userId, id, pictureId)); }
        catch (UploadGoneException gone) { return (gone.State, null); }
        // The staged files are no longer needed; if this fails, temp-cleanup removes them with the committed row.
        await DeleteFilesQuietlyAsync(id);
        return (CommitState.Committed, result);
    }

    private static async Task ClaimAsync(NpgsqlTransaction tx, string userId, Guid id, Guid pictureId)
    {
        var conn = tx.Connection!;
        var claimed = await conn.ExecuteAsync("""
            UPDATE staged_uploads SET committed_at = now(), picture_id = @pictureId
            WHERE id = @id AND user_id = @userId AND committed_at IS NULL AND expires_at > now()
            """, new { id, userId, pictureId }, tx);
        if (claimed == 1) return;
        var committed = await conn.ExecuteScalarAsync<bool?>(
            "SELECT committed_at IS NOT NULL FROM staged_uploads WHERE id = @id AND user_id = @userId", new { id, userId }, tx);
        throw new UploadGoneException(committed == true ? CommitState.AlreadyCommitted : CommitState.NotFound);
    }

    /// <summary>
    /// Account deletion's part, inside its transaction and under the user's lock: every staged upload's
    /// row goes with the account. Their ids are returned for <see cref="DeleteFilesQuietlyAsync(IEnumerable{Guid})"/>
    /// after the commit (a row never outlives its files; a left folder is removed by temp-cleanup).
    /// </summary>
    public static async Task<Guid[]> DeleteRowsOfUserAsync(UserChange change) =>
        (await change.QueryAsync<Guid>("DELETE FROM staged_uploads WHERE user_id = @userId RETURNING id", new { userId = change.UserId })).ToArray();

    public async Task DeleteFilesQuietlyAsync(IEnumerable<Guid> ids)
    {
        foreach (var id in ids) await DeleteFilesQuietlyAsync(id);
    }

    /// <summary>The caller's own upload (committed or not): files, then row. False when there is none.</summary>
    public async Task<bool> DeleteOwnAsync(string userId, Guid id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<StagedUploadRow>(
            $"SELECT {Columns} FROM staged_uploads WHERE id = @id AND user_id = @userId", new { id, userId });
        if (row is null) return false;
        await store.DeleteUploadAsync(id, ct); // a StorageException is 503 and keeps the row
        await conn.ExecuteAsync("DELETE FROM staged_uploads WHERE id = @id", new { id });
        return true;
    }

    public async Task<IReadOnlyList<StagedUploadRow>> ListAllAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<StagedUploadRow>($"SELECT {Columns} FROM staged_uploads ORDER BY created_at DESC, id")).ToList();
    }

    /// <summary>Rows created before <paramref name="before"/> (any state).</summary>
    public async Task<IReadOnlyList<StagedUploadRow>> CreatedBeforeAsync(DateTime before, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<StagedUploadRow>(
            $"SELECT {Columns} FROM staged_uploads WHERE created_at < @before ORDER BY created_at", new { before })).ToList();
    }

    /// <summary>What temp-cleanup removes: expired uploads and committed ones (their files are no longer needed).</summary>
    public async Task<IReadOnlyList<StagedUploadRow>> ExpiredOrCommittedAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<StagedUploadRow>(
            $"SELECT {Columns} FROM staged_uploads WHERE expires_at <= now() OR committed_at IS NOT NULL ORDER BY created_at")).ToList();
    }

    public async Task<StagedUploadRow?> FindAnyAsync(Guid id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.QuerySingleOrDefaultAsync<StagedUploadRow>($"SELECT {Columns} FROM staged_uploads WHERE id = @id", new { id });
    }

    /// <summary>Deletes each upload's files and then its row; an upload whose files cannot be deleted is counted as failed and kept.</summary>
    public async Task<CleanupCounts> DeleteAsync(IReadOnlyCollection<StagedUploadRow> rows, CancellationToken ct)
    {
        var gone = new List<Guid>();
        var failed = 0;
        foreach (var row in rows)
        {
            try { await store.DeleteUploadAsync(row.Id, ct); gone.Add(row.Id); }
            catch (StorageException e) { failed++; log.LogWarning(e, "Could not delete the staged files of upload {UploadId}", row.Id); }
        }
        var deleted = 0;
        if (gone.Count > 0)
        {
            // Not cancellable: files already deleted must lose their rows in this run.
            await using var conn = await db.OpenConnectionAsync(CancellationToken.None);
            deleted = await conn.ExecuteAsync("DELETE FROM staged_uploads WHERE id = ANY(@ids)", new { ids = gone.ToArray() });
        }
        return new CleanupCounts(rows.Count, deleted, failed);
    }

    /// <summary>Ids of every staged upload that has a row, to tell temp folders without one.</summary>
    public async Task<HashSet<Guid>> AllIdsAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<Guid>("SELECT id FROM staged_uploads")).ToHashSet();
    }

    private async Task DeleteFilesQuietlyAsync(Guid id)
    {
        try { await store.DeleteUploadAsync(id, CancellationToken.None); }
        catch (Exception e) { log.LogWarning(e, "Left the staged files of upload {UploadId}; temp-cleanup removes them", id); }
    }
}

using Dapper;
using ImagePictures.Api.Storage;
using ImagePictures.Imaging;
using Npgsql;

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

public sealed record CleanupCounts(int Found, int Deleted, int Failed);

/// <summary>
/// Staged uploads: the files under temp/{id}/ are written first and the row after, so a row always
/// has its files; deleting goes the other way round (files, then row), so a failed delete keeps the
/// row and a later cleanup retries.
/// </summary>
public sealed class UploadSessions(NpgsqlDataSource db, PictureStore store, IConfiguration config, ILogger<UploadSessions> log)
{
    private const string Columns = "id, user_id, created_at, expires_at, width, height, bytes, file_name, committed_at, picture_id";

    /// <summary>Read per call, so that settings given by a test host apply; fractions of an hour are allowed.</summary>
    public TimeSpan Ttl => TimeSpan.FromHours(config.GetValue("Uploads:TempTtlHours", 2.0));

    public async Task<StagedUploadRow> StageAsync(string userId, StagedImage staged, CancellationToken ct)
    {
        var id = Guid.NewGuid();
        await store.WriteUploadAsync(id, [staged.Image], ct);
        try
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await conn.QuerySingleAsync<StagedUploadRow>($"""
                INSERT INTO staged_uploads (id, user_id, expires_at, width, height, bytes, file_name)
                VALUES (@id, @userId, now() + make_interval(secs => @ttlSeconds), @Width, @Height, @bytes, @fileName)
                RETURNING {Columns}
                """, new { id, userId, ttlSeconds = Ttl.TotalSeconds, staged.Width, staged.Height, bytes = (long)staged.Image.Bytes.Length, fileName = staged.Image.FileName });
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

    /// <summary>The staged image; the row is committed only after its files are in place, so a missing file is a storage fault.</summary>
    public async Task<StoredFile> ReadFileAsync(StagedUploadRow row, CancellationToken ct) =>
        await store.ReadUploadFileAsync(row.Id, row.FileName, ct)
        ?? throw new StorageException("The staged image could not be read from storage.");

    public enum CommitState { Committed, NotFound, AlreadyCommitted }

    /// <summary>
    /// Commits under a row lock, so that two concurrent commits make one picture: the second waits
    /// for the first and then sees committed_at (409). <paramref name="create"/> makes the picture;
    /// if it throws, the lock is released with the upload unchanged and the caller may retry.
    /// </summary>
    public async Task<(CommitState State, T? Result)> CommitAsync<T>(string userId, Guid id,
        Func<StagedUploadRow, Task<(T Result, Guid PictureId)>> create, CancellationToken ct) where T : class
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<StagedUploadRow>($"""
            SELECT {Columns} FROM staged_uploads WHERE id = @id AND user_id = @userId FOR UPDATE
            """, new { id, userId }, tx);
        if (row is null) return (CommitState.NotFound, null);
        if (row.CommittedAt is not null) return (CommitState.AlreadyCommitted, null);
        if (row.ExpiresAt <= DateTime.UtcNow) return (CommitState.NotFound, null);

        var (result, pictureId) = await create(row);
        await conn.ExecuteAsync("UPDATE staged_uploads SET committed_at = now(), picture_id = @pictureId WHERE id = @id",
            new { id, pictureId }, tx);
        await tx.CommitAsync(ct);
        // The staged files are no longer needed; if this fails, temp-cleanup removes them with the committed row.
        await DeleteFilesQuietlyAsync(id);
        return (CommitState.Committed, result);
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

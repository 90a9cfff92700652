using Dapper;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Realtime;
using System.ComponentModel;
using Hangfire;
using Npgsql;

namespace ImagePictures.Api.Jobs;

/// <summary>
/// trash-purge: pictures whose purge_after has passed, in batches of Jobs:BatchSize. Each batch is
/// locked (FOR UPDATE, so a restore cannot slip in between), its files deleted (already gone counts
/// as deleted), then its rows deleted with one PicturePurged event each, in one transaction. A
/// picture whose files cannot be deleted keeps its row, counts as failed and is retried next run.
/// </summary>
public sealed class TrashPurgeJob(NpgsqlDataSource db, PictureStore store, JobRunRecorder recorder, IConfiguration config,
    ILogger<TrashPurgeJob> log)
{
    public const string Name = "trash-purge";

    // Keyset over id, so that pictures that failed in this run are not selected again.
    private const string BatchSql = """
        SELECT id, user_id FROM pictures
        WHERE deleted_at IS NOT NULL AND purge_after < now() AND id > @after
        ORDER BY id LIMIT @batch
        FOR UPDATE SKIP LOCKED
        """;

    private const string DeleteSql = """
        DELETE FROM pictures WHERE id = ANY(@ids) AND deleted_at IS NOT NULL RETURNING id, user_id
        """;

    [DisplayName(Name), AutomaticRetry(Attempts = JobsSetup.RetryAttempts)]
    [DisableConcurrentExecution(timeoutInSeconds: JobsSetup.WaitForRunningSeconds)]
    public Task<JobOutcome> ExecuteAsync(CancellationToken cancellationToken) => recorder.RunAsync(Name, RunAsync, cancellationToken);

    private async Task<JobOutcome> RunAsync(CancellationToken ct)
    {
        var batchSize = Math.Max(1, config.GetValue("Jobs:BatchSize", 500));
        int found = 0, deleted = 0, failed = 0;
        var after = Guid.Empty;
        while (!ct.IsCancellationRequested)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            await using var tx = await conn.BeginTransactionAsync(ct);
            var batch = (await conn.QueryAsync<(Guid Id, string UserId)>(BatchSql, new { after, batch = batchSize }, tx)).ToList();
            if (batch.Count == 0) break;
            found += batch.Count;
            after = batch[^1].Id;

            // Folders are deleted a few at a time: each is a handful of file-system calls that mostly wait.
            var gone = new System.Collections.Concurrent.ConcurrentBag<Guid>();
            Parallel.ForEach(batch, new ParallelOptions { MaxDegreeOfParallelism = 4 }, picture =>
            {
                // On shutdown, stop deleting files, but still remove the rows of those already gone.
                if (ct.IsCancellationRequested) return;
                try { store.DeletePicture(picture.UserId, picture.Id); gone.Add(picture.Id); }
                catch (StorageException e) { Interlocked.Increment(ref failed); log.LogWarning(e, "trash-purge could not delete the files of picture {PictureId}", picture.Id); }
            });

            var removed = (await conn.QueryAsync<(Guid Id, string UserId)>(DeleteSql, new { ids = gone.ToArray() }, tx)).ToList();
            await EventLog.AppendManyAsync(tx, EventTypes.PicturePurged, removed);
            await tx.CommitAsync(CancellationToken.None);
            deleted += removed.Count;
            if (batch.Count < batchSize) break;
        }
        // Stopped by shutdown: what was purged stays purged, and Hangfire runs the job again for the rest.
        ct.ThrowIfCancellationRequested();
        return new JobOutcome(found, deleted, failed, failed > 0 ? $"{failed} picture(s) could not be deleted from storage and were kept; the next run retries." : null);
    }
}

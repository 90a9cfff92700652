using Dapper;
using ImagePictures.Api.EventLog;
using ImagePictures.Api.Jobs;
using ImagePictures.Api.Storage;
using System.ComponentModel;
using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ImagePictures.Api.Trash;

/// <summary>
/// trash-purge: pictures whose purge_after has passed, in batches of Jobs:BatchSize (2000). Each batch is
/// locked (FOR UPDATE, so a restore cannot slip in between), its files deleted (already gone counts
/// as deleted), then its rows deleted with one PicturePurged event each, in one transaction. A
/// picture whose files cannot be deleted keeps its row, counts as failed and is retried next run.
/// A batch commits while the next one's files are deleted.
/// </summary>
public sealed class TrashPurgeJob(NpgsqlDataSource db, PictureStore store, JobRunRecorder recorder, IOptionsMonitor<JobOptions> options)
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
        var batchSize = options.CurrentValue.BatchSize;
        int found = 0, deleted = 0, failed = 0;
        var after = Guid.Empty;
        // One batch's rows commit while the next batch's folders are deleted: the disk and the
        // database work at the same time, and the deletions (most of the time) never wait for a commit.
        Task<int>? committing = null;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                var conn = await db.OpenConnectionAsync(ct);
                NpgsqlTransaction? tx = null;
                var handedOver = false;
                try
                {
                    tx = await conn.BeginTransactionAsync(ct);
                    var batch = (await conn.QueryAsync<(Guid Id, string UserId)>(BatchSql, new { after, batch = batchSize }, tx)).ToList();
                    if (batch.Count == 0) break;
                    found += batch.Count;
                    after = batch[^1].Id;

                    // On shutdown the store stops deleting, but the rows of the pictures already gone are still removed.
                    var gone = await store.DeletePicturesAsync(batch, ct);
                    if (!ct.IsCancellationRequested) failed += batch.Count - gone.Count;

                    if (committing is not null) deleted += await committing;
                    committing = CommitAsync(conn, tx, gone.ToArray()); // disposes the connection when done
                    handedOver = true;
                    if (batch.Count < batchSize) break;
                }
                finally
                {
                    if (!handedOver) await DisposeAsync(conn, tx);
                }
            }
        }
        finally
        {
            if (committing is not null) deleted += await committing;
        }
        // Stopped by shutdown: what was purged stays purged, and Hangfire runs the job again for the rest.
        ct.ThrowIfCancellationRequested();
        return new JobOutcome(found, deleted, failed, failed > 0 ? $"{failed} picture(s) could not be deleted from storage and were kept; the next run retries." : null);
    }

    /// <summary>Deletes the rows whose files are gone, with one PicturePurged event each, and commits; returns how many.</summary>
    private static async Task<int> CommitAsync(NpgsqlConnection conn, NpgsqlTransaction tx, Guid[] gone)
    {
        try
        {
            var removed = (await conn.QueryAsync<(Guid Id, string UserId)>(DeleteSql, new { ids = gone }, tx)).ToList();
            await EventWriter.AppendManyAsync(tx, EventTypes.PicturePurged, removed);
            await tx.CommitAsync(CancellationToken.None);
            return removed.Count;
        }
        finally
        {
            await DisposeAsync(conn, tx);
        }
    }

    private static async Task DisposeAsync(NpgsqlConnection conn, NpgsqlTransaction? tx)
    {
        if (tx is not null) await tx.DisposeAsync();
        await conn.DisposeAsync();
    }
}

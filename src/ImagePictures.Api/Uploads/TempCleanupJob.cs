using ImagePictures.Api.Storage;
using ImagePictures.Api.Jobs;
using System.ComponentModel;
using Hangfire;

namespace ImagePictures.Api.Uploads;

/// <summary>
/// temp-cleanup: staged uploads past expires_at and committed ones (rows and temp folders), and temp
/// folders that no row owns once they are older than Uploads:TempTtlHours (a crash between writing
/// the files and the row leaves one).
/// </summary>
public sealed class TempCleanupJob(UploadSessions uploads, PictureStore store, JobRunRecorder recorder, TimeProvider clock, ILogger<TempCleanupJob> log)
{
    public const string Name = "temp-cleanup";

    [DisplayName(Name), AutomaticRetry(Attempts = JobsSetup.RetryAttempts)]
    [DisableConcurrentExecution(timeoutInSeconds: JobsSetup.WaitForRunningSeconds)]
    public Task<JobOutcome> ExecuteAsync(CancellationToken cancellationToken) => recorder.RunAsync(Name, RunAsync, cancellationToken);

    private async Task<JobOutcome> RunAsync(CancellationToken ct)
    {
        var rows = await uploads.ExpiredOrCommittedAsync(ct);
        var counts = await uploads.DeleteAsync(rows, ct);
        int found = counts.Found, deleted = counts.Deleted, failed = counts.Failed;

        // Read the ids after deleting, and take only old folders: a folder being staged right now has no row yet but is new.
        var owned = await uploads.AllIdsAsync(ct);
        var cutoff = clock.GetUtcNow().UtcDateTime - uploads.Ttl; // the clock: a test moves it past the TTL instead of waiting
        await foreach (var folder in store.ListUploadFoldersAsync(ct))
        {
            if (folder.Id is { } known && owned.Contains(known)) continue;
            if (folder.LastWriteUtc > cutoff) continue;
            found++;
            try { await store.DeleteFolderAsync(folder, ct); deleted++; }
            catch (StorageException e)
            {
                failed++;
                log.LogWarning(e, "temp-cleanup could not delete {Folder}", folder.Name);
            }
        }
        return new JobOutcome(found, deleted, failed, failed > 0 ? $"{failed} temp folder(s) could not be deleted; the next run retries." : null);
    }
}

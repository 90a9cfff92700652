using ImagePictures.Api.Pictures;
using ImagePictures.Api.Uploads;
using System.ComponentModel;
using Hangfire;

namespace ImagePictures.Api.Jobs;

/// <summary>
/// temp-cleanup: staged uploads past expires_at and committed ones (rows and temp folders), and temp
/// folders that no row owns once they are older than Uploads:TempTtlHours (a crash between writing
/// the files and the row leaves one).
/// </summary>
public sealed class TempCleanupJob(UploadSessions uploads, PictureStore store, JobRunRecorder recorder, ILogger<TempCleanupJob> log)
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
        var cutoff = DateTime.UtcNow - uploads.Ttl;
        foreach (var folder in Directory.EnumerateDirectories(store.TempRoot))
        {
            ct.ThrowIfCancellationRequested();
            var name = Path.GetFileName(folder);
            var id = Guid.TryParse(name, out var g) ? g : (Guid?)null;
            if (id is { } known && owned.Contains(known)) continue;
            if (id is null && !name.StartsWith(".staging-", StringComparison.Ordinal)) continue; // not ours
            if (Directory.GetLastWriteTimeUtc(folder) > cutoff) continue;
            found++;
            try { Directory.Delete(folder, recursive: true); deleted++; }
            catch (DirectoryNotFoundException) { deleted++; }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                failed++;
                log.LogWarning(e, "temp-cleanup could not delete {Folder}", name);
            }
        }
        return new JobOutcome(found, deleted, failed, failed > 0 ? $"{failed} temp folder(s) could not be deleted; the next run retries." : null);
    }
}

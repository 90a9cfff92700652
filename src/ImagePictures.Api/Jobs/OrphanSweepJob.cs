using Dapper;
using ImagePictures.Api.Storage;
using System.ComponentModel;
using Hangfire;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ImagePictures.Api.Jobs;

/// <summary>
/// orphan-sweep: picture folders under users/{u}/ that no row owns, .staging-*/.purging-* leftovers and
/// account deletions' detached users/.deleting-* folders, once
/// older than OrphanSweep:GraceMinutes (a crash between files and row leaves them; the grace keeps
/// an upload in flight safe). Rows whose folder is missing are only reported (found, error), never
/// deleted: that needs a person to look.
/// </summary>
public sealed class OrphanSweepJob(NpgsqlDataSource db, PictureStore store, JobRunRecorder recorder, IOptionsMonitor<OrphanSweepOptions> options,
    ILogger<OrphanSweepJob> log)
{
    public const string Name = "orphan-sweep";

    [DisplayName(Name), AutomaticRetry(Attempts = JobsSetup.RetryAttempts)]
    [DisableConcurrentExecution(timeoutInSeconds: JobsSetup.WaitForRunningSeconds)]
    public Task<JobOutcome> ExecuteAsync(CancellationToken cancellationToken) => recorder.RunAsync(Name, RunAsync, cancellationToken);

    private async Task<JobOutcome> RunAsync(CancellationToken ct)
    {
        var cutoff = DateTime.UtcNow - TimeSpan.FromMinutes(options.CurrentValue.GraceMinutes);
        List<(Guid Id, string UserId)> rows;
        await using (var conn = await db.OpenConnectionAsync(ct))
            rows = (await conn.QueryAsync<(Guid, string)>("SELECT id, user_id FROM pictures")).ToList();
        var owned = rows.Select(r => r.Id).ToHashSet();

        int found = 0, deleted = 0, failed = 0;
        var listed = new HashSet<Guid>();
        await foreach (var folder in store.ListPictureFoldersAsync(ct))
        {
            if (folder.Id is { } id) listed.Add(id);
            var orphan = folder.IsLeftover || (folder.Id is { } pid && !owned.Contains(pid));
            if (!orphan || folder.LastWriteUtc > cutoff) continue;
            found++;
            try { await store.DeleteFolderAsync(folder, ct); deleted++; log.LogInformation("orphan-sweep deleted {User}/{Folder}", folder.UserId, folder.Name); }
            catch (StorageException e)
            {
                failed++;
                log.LogWarning(e, "orphan-sweep could not delete {User}/{Folder}", folder.UserId, folder.Name);
            }
        }

        // Every row read above had its files before it was committed, so the listing saw them unless
        // they are lost. Rows purged meanwhile are read again and left out.
        var unlisted = rows.Where(r => !listed.Contains(r.Id)).ToList();
        HashSet<Guid> stillThere = [];
        if (unlisted.Count > 0)
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            stillThere = (await conn.QueryAsync<Guid>("SELECT id FROM pictures WHERE id = ANY(@ids)", new { ids = unlisted.Select(r => r.Id).ToArray() })).ToHashSet();
        }
        var missing = unlisted.Where(r => stillThere.Contains(r.Id)).ToList();
        foreach (var (id, userId) in missing)
            log.LogError("Picture {PictureId} of user {UserId} has a row but no folder; it was kept for a person to look at", id, userId);
        found += missing.Count;

        var errors = new List<string>();
        if (failed > 0) errors.Add($"{failed} orphan folder(s) could not be deleted");
        if (missing.Count > 0)
            errors.Add($"{missing.Count} picture row(s) have no folder (kept): {string.Join(", ", missing.Take(20).Select(m => $"{m.UserId}/{m.Id}"))}{(missing.Count > 20 ? ", …" : "")}");
        return new JobOutcome(found, deleted, failed, errors.Count > 0 ? string.Join("; ", errors) + "." : null);
    }
}

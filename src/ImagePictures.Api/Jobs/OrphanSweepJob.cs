using Dapper;
using ImagePictures.Api.Auth;
using ImagePictures.Api.Pictures;
using System.ComponentModel;
using Hangfire;
using Npgsql;

namespace ImagePictures.Api.Jobs;

/// <summary>
/// orphan-sweep: picture folders under users/{u}/ that no row owns, .staging-*/.purging-* leftovers and
/// account deletions' detached users/.deleting-* folders, once
/// older than OrphanSweep:GraceMinutes (a crash between files and row leaves them; the grace keeps
/// an upload in flight safe). Rows whose folder is missing are only reported (found, error), never
/// deleted: that needs a person to look.
/// </summary>
public sealed class OrphanSweepJob(NpgsqlDataSource db, PictureStore store, JobRunRecorder recorder, IConfiguration config,
    ILogger<OrphanSweepJob> log)
{
    public const string Name = "orphan-sweep";

    [DisplayName(Name), AutomaticRetry(Attempts = JobsSetup.RetryAttempts)]
    [DisableConcurrentExecution(timeoutInSeconds: JobsSetup.WaitForRunningSeconds)]
    public Task<JobOutcome> ExecuteAsync(CancellationToken cancellationToken) => recorder.RunAsync(Name, RunAsync, cancellationToken);

    private async Task<JobOutcome> RunAsync(CancellationToken ct)
    {
        var cutoff = DateTime.UtcNow - TimeSpan.FromMinutes(config.GetValue("OrphanSweep:GraceMinutes", 60.0));
        List<(Guid Id, string UserId)> rows;
        await using (var conn = await db.OpenConnectionAsync(ct))
            rows = (await conn.QueryAsync<(Guid, string)>("SELECT id, user_id FROM pictures")).ToList();
        var owned = rows.Select(r => r.Id).ToHashSet();

        int found = 0, deleted = 0, failed = 0;
        foreach (var userFolder in Directory.EnumerateDirectories(store.UsersRoot))
        {
            // An account deletion's detached folder that could not be removed at the time.
            if (Path.GetFileName(userFolder).StartsWith(".deleting-", StringComparison.Ordinal))
            {
                if (Directory.GetLastWriteTimeUtc(userFolder) > cutoff) continue;
                found++;
                try { Directory.Delete(userFolder, recursive: true); deleted++; }
                catch (DirectoryNotFoundException) { deleted++; }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { failed++; log.LogWarning(e, "orphan-sweep could not delete a detached account folder"); }
                continue;
            }
            if (!UserIds.IsValid(Path.GetFileName(userFolder))) continue;
            foreach (var folder in Directory.EnumerateDirectories(userFolder))
            {
                ct.ThrowIfCancellationRequested();
                var name = Path.GetFileName(folder);
                var orphan = name.StartsWith(".staging-", StringComparison.Ordinal) || name.StartsWith(".purging-", StringComparison.Ordinal)
                             || (Guid.TryParse(name, out var id) && !owned.Contains(id));
                if (!orphan || Directory.GetLastWriteTimeUtc(folder) > cutoff) continue;
                found++;
                try { Directory.Delete(folder, recursive: true); deleted++; log.LogInformation("orphan-sweep deleted {Folder}", name); }
                catch (DirectoryNotFoundException) { deleted++; }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    failed++;
                    log.LogWarning(e, "orphan-sweep could not delete {Folder}", name);
                }
            }
        }

        // Rows created after the listing above have their folders already (files are written first).
        var missing = rows.Where(r => !Directory.Exists(store.PictureFolder(r.UserId, r.Id))).ToList();
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

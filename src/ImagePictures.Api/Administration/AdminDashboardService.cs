using Dapper;
using ImagePictures.Api.Jobs;
using ImagePictures.Api.Uploads;
using ImagePictures.Dashboard;
using Npgsql;

namespace ImagePictures.Api.Administration;

/// <summary>The admin page's view of the service: the jobs' status line (read only; they are controlled in the Hangfire dashboard), the staged uploads and the storage summary, from the same sources as the admin API.</summary>
public sealed class AdminDashboardService(SchedulerJobs jobs, UploadSessions uploads, UploadCleanup cleanup, NpgsqlDataSource db) : IAdminDashboardService
{
    private const string StorageSummarySql = """
        SELECT count(DISTINCT user_id)::int AS users,
               (count(*) FILTER (WHERE deleted_at IS NULL))::int AS live,
               (count(*) FILTER (WHERE deleted_at IS NOT NULL))::int AS trashed,
               coalesce(sum(bytes), 0)::bigint AS bytes
        FROM pictures
        """;

    public async Task<IReadOnlyList<JobView>> GetJobsAsync(CancellationToken ct = default) =>
        (await jobs.ListAsync(ct)).Select(j => new JobView(j.Name, j.Cron, j.Paused, j.NextRunAt, j.LastRun is null ? null : View(j.Name, j.LastRun))).ToList();

    public async Task<IReadOnlyList<StagedUploadView>> GetUploadsAsync(CancellationToken ct = default) =>
        (await uploads.ListAllAsync(ct)).Select(u => new StagedUploadView(u.Id, u.UserId, Utc(u.CreatedAt), Utc(u.ExpiresAt), u.Bytes)).ToList();

    public async Task<CleanupResultView> CleanupAsync(CleanupRequestView request, CancellationToken ct = default)
    {
        var (counts, error) = await cleanup.RunAsync(request.Action, request.OlderThanHours, request.UploadId, request.Confirm, ct);
        if (error is not null) throw new ArgumentException(error);
        return new CleanupResultView(counts!.Found, counts.Deleted, counts.Failed);
    }

    public async Task<StorageSummaryView> GetStorageSummaryAsync(CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var s = await conn.QuerySingleAsync<(int Users, int Live, int Trashed, long Bytes)>(StorageSummarySql);
        return new StorageSummaryView(s.Users, s.Live, s.Trashed, s.Bytes);
    }

    private static JobRunView View(string name, JobRunJson r) =>
        new(r.Id, name, Utc(r.StartedAt), r.FinishedAt is { } f ? Utc(f) : null, r.Node, r.Status, r.Found, r.Deleted, r.Failed, r.Error);

    private static DateTimeOffset Utc(DateTime d) => new(DateTime.SpecifyKind(d, DateTimeKind.Utc));
}

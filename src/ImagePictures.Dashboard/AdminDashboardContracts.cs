namespace ImagePictures.Dashboard;

/// <summary>
/// The single seam between the dashboard components and the host. The host implements it
/// (registered in DI, typically scoped); tests replace it with a fake.
/// </summary>
public interface IAdminDashboardService
{
    /// <summary>For the read-only status line; jobs are run, paused and inspected in the Hangfire dashboard.</summary>
    Task<IReadOnlyList<JobView>> GetJobsAsync(CancellationToken ct = default);
    Task<IReadOnlyList<StagedUploadView>> GetUploadsAsync(CancellationToken ct = default);
    Task<CleanupResultView> CleanupAsync(CleanupRequestView request, CancellationToken ct = default);
    Task<StorageSummaryView> GetStorageSummaryAsync(CancellationToken ct = default);
}

/// <summary>Status values: "running", "succeeded", "failed", "partial".</summary>
public sealed record JobRunView(long Id, string JobName, DateTimeOffset StartedAt, DateTimeOffset? FinishedAt, string Node, string Status, int Found, int Deleted, int Failed, string? Error);

public sealed record JobView(string Name, string Cron, bool Paused, DateTimeOffset? NextRunAt, JobRunView? LastRun);

public sealed record StagedUploadView(Guid Id, string UserId, DateTimeOffset CreatedAt, DateTimeOffset ExpiresAt, long Bytes);

/// <summary>Action: "list" | "cleanup-old" | "delete-session" | "delete-all".</summary>
public sealed record CleanupRequestView(string Action, double? OlderThanHours = null, Guid? UploadId = null, string? Confirm = null);

public sealed record CleanupResultView(int Found, int Deleted, int Failed);

public sealed record StorageSummaryView(int Users, int LivePictures, int TrashedPictures, long Bytes);

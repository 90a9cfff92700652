using ImagePictures.Dashboard;

namespace ImagePictures.Dashboard.Tests;

/// <summary>Hand-written fake that keeps simple in-memory state and records every call.</summary>
public sealed class FakeAdminDashboardService : IAdminDashboardService
{
    public List<JobView> Jobs { get; } = [];
    public List<StagedUploadView> Uploads { get; } = [];
    public CleanupResultView CleanupResult { get; set; } = new(3, 2, 1);
    public StorageSummaryView Summary { get; set; } = new(5, 120, 7, 12_900_000);

    /// <summary>Method name (e.g. "GetJobsAsync") → exception to throw.</summary>
    public Dictionary<string, Exception> Failures { get; } = [];

    /// <summary>Every call as "Method(arg)".</summary>
    public List<string> Calls { get; } = [];
    public List<CleanupRequestView> CleanupRequests { get; } = [];

    public int CallCount(string method) => Calls.Count(c => c.StartsWith(method + "(", StringComparison.Ordinal));

    private void Record(string method, string arg = "")
    {
        Calls.Add($"{method}({arg})");
        if (Failures.TryGetValue(method, out var ex)) throw ex;
    }

    public Task<IReadOnlyList<JobView>> GetJobsAsync(CancellationToken ct = default)
    {
        Record(nameof(GetJobsAsync));
        return Task.FromResult<IReadOnlyList<JobView>>(Jobs.ToList());
    }

    public Task<IReadOnlyList<StagedUploadView>> GetUploadsAsync(CancellationToken ct = default)
    {
        Record(nameof(GetUploadsAsync));
        return Task.FromResult<IReadOnlyList<StagedUploadView>>(Uploads.ToList());
    }

    public Task<CleanupResultView> CleanupAsync(CleanupRequestView request, CancellationToken ct = default)
    {
        Record(nameof(CleanupAsync), request.Action);
        CleanupRequests.Add(request);
        return Task.FromResult(CleanupResult);
    }

    public Task<StorageSummaryView> GetStorageSummaryAsync(CancellationToken ct = default)
    {
        Record(nameof(GetStorageSummaryAsync));
        return Task.FromResult(Summary);
    }

    // ---- sample data ----

    public static readonly DateTimeOffset T0 = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    public FakeAdminDashboardService WithDefaultJobs()
    {
        Jobs.Add(new JobView("trash-purge", "0 3 * * *", false, T0.AddHours(15),
            new JobRunView(7, "trash-purge", T0, T0.AddMinutes(1), "node-a", "partial", 10, 8, 2, "2 files locked")));
        Jobs.Add(new JobView("staging-cleanup", "*/15 * * * *", true, null, null));
        return this;
    }
}

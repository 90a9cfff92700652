using Dapper;
using Npgsql;
using Quartz;

namespace ImagePictures.Api.Jobs;

/// <summary>What a job did: found candidates, deleted ones, failures; Error explains a partial run.</summary>
public sealed record JobOutcome(int Found, int Deleted, int Failed, string? Error = null)
{
    public string Status => Failed > 0 || Error is not null ? "partial" : "succeeded";
}

public sealed record JobRunRow
{
    public long Id { get; init; }
    public string JobName { get; init; } = "";
    public DateTime StartedAt { get; init; }
    public DateTime? FinishedAt { get; init; }
    public string Node { get; init; } = "";
    public string Status { get; init; } = "";
    public int Found { get; init; }
    public int Deleted { get; init; }
    public int Failed { get; init; }
    public string? Error { get; init; }
}

/// <summary>
/// Records every job execution in job_runs the same way: a 'running' row when it starts (so the
/// dashboard shows what runs now, and on which node), completed with the counts when it ends, or
/// 'failed' with the message when the job throws.
/// </summary>
public sealed class JobRunRecorder(NpgsqlDataSource db, ILogger<JobRunRecorder> log)
{
    public const string Columns = "id, job_name, started_at, finished_at, node, status, found, deleted, failed, error";

    public async Task RunAsync(IJobExecutionContext context, Func<CancellationToken, Task<JobOutcome>> job, CancellationToken ct)
    {
        var name = context.JobDetail.Key.Name;
        var node = context.Scheduler.SchedulerInstanceId;
        long id;
        await using (var conn = await db.OpenConnectionAsync(ct))
            id = await conn.ExecuteScalarAsync<long>(
                "INSERT INTO job_runs (job_name, node, status) VALUES (@name, @node, 'running') RETURNING id", new { name, node });

        JobOutcome outcome;
        string status;
        try
        {
            outcome = await job(ct);
            status = outcome.Status;
        }
        catch (Exception e)
        {
            log.LogError(e, "Job {Job} failed", name);
            outcome = new JobOutcome(0, 0, 0, e is OperationCanceledException ? "Stopped by shutdown before it finished." : e.Message);
            status = "failed";
        }
        // Not cancellable: the run's record must be completed even when the host is shutting down.
        await using (var conn = await db.OpenConnectionAsync(CancellationToken.None))
            await conn.ExecuteAsync("""
                UPDATE job_runs SET finished_at = now(), status = @status, found = @Found, deleted = @Deleted, failed = @Failed, error = @Error
                WHERE id = @id
                """, new { id, status, outcome.Found, outcome.Deleted, outcome.Failed, outcome.Error });
        Operations.PicturesMetrics.JobRun(name, status);
        log.LogInformation("Job {Job} {Status}: found {Found}, deleted {Deleted}, failed {Failed}", name, status, outcome.Found, outcome.Deleted, outcome.Failed);
    }

    public async Task<IReadOnlyList<JobRunRow>> RunsAsync(string jobName, int limit, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<JobRunRow>(
            $"SELECT {Columns} FROM job_runs WHERE job_name = @jobName ORDER BY id DESC LIMIT @limit", new { jobName, limit })).ToList();
    }
}

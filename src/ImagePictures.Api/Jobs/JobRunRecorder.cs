using System.Diagnostics.Metrics;
using Dapper;
using Npgsql;

namespace ImagePictures.Api.Jobs;

/// <summary>What a job did: found candidates, deleted ones, failures; Error explains a partial run. It is the job's return value, so Hangfire shows it on the job's page.</summary>
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

/// <summary>The name this instance goes by in the cluster: its Hangfire server name and the node of its runs.</summary>
public sealed record JobNode(string Name)
{
    public static JobNode ForThisProcess() => new($"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid().ToString("N")[..6]}");
}

/// <summary>
/// Runs every job the same way. A session advisory lock per job makes runs of one job follow each
/// other across the cluster, even when a run outlasts Hangfire's own lock (whose row is taken as
/// dead after DistributedLockTimeout), and it goes away with the session if the process dies. Each
/// run gets a 'running' row in job_runs when it starts (so the admin API shows what runs now, and
/// where), completed with the counts when it ends, or 'failed' with the message when the job throws;
/// the exception then goes on to Hangfire, which shows the run as Failed and retries it. Hangfire
/// keeps succeeded jobs for a day only, so job_runs is the history: each job keeps at least its last
/// 50 runs and every run of the last 7 days.
/// </summary>
public sealed class JobRunRecorder(NpgsqlDataSource db, JobNode node, Operations.PicturesMetrics metrics, ILogger<JobRunRecorder> log)
{
    public const string Columns = "id, job_name, started_at, finished_at, node, status, found, deleted, failed, error";
    public const int KeptRuns = 50;
    public static readonly TimeSpan KeptDays = TimeSpan.FromDays(7);


    private const string PruneSql = """
        DELETE FROM job_runs
        WHERE job_name = @name AND started_at < now() - make_interval(secs => @seconds)
          AND id < (SELECT min(id) FROM (SELECT id FROM job_runs WHERE job_name = @name ORDER BY id DESC LIMIT @kept) newest)
        """;

    public async Task<JobOutcome> RunAsync(string name, Func<CancellationToken, Task<JobOutcome>> job, CancellationToken ct)
    {
        await using var guard = await db.OpenConnectionAsync(ct);
        // No command timeout: waiting here is waiting for the run before this one to finish.
        await guard.ExecuteAsync(new CommandDefinition("SELECT pg_advisory_lock(hashtext(@key))", new { key = $"job:{name}" }, commandTimeout: 0, cancellationToken: ct));

        long id;
        await using (var conn = await db.OpenConnectionAsync(ct))
            id = await conn.ExecuteScalarAsync<long>(
                "INSERT INTO job_runs (job_name, node, status) VALUES (@name, @node, 'running') RETURNING id", new { name, node = node.Name });

        try
        {
            var outcome = await job(ct);
            await CompleteAsync(id, outcome.Status, outcome);
            log.LogInformation("Job {Job} {Status}: found {Found}, deleted {Deleted}, failed {Failed}", name, outcome.Status, outcome.Found, outcome.Deleted, outcome.Failed);
            metrics.JobRun(name, outcome.Status);
            return outcome;
        }
        catch (Exception e)
        {
            var stopped = e is OperationCanceledException && ct.IsCancellationRequested;
            await CompleteAsync(id, "failed", new JobOutcome(0, 0, 0,
                stopped ? "Stopped by shutdown before it finished; Hangfire runs it again." : e.Message));
            if (stopped) log.LogWarning("Job {Job} was stopped by shutdown; Hangfire runs it again", name);
            else log.LogError(e, "Job {Job} failed", name);
            metrics.JobRun(name, "failed");
            throw;
        }
        finally
        {
            await guard.ExecuteAsync("SELECT pg_advisory_unlock(hashtext(@key))", new { key = $"job:{name}" });
        }

        // Not cancellable: the run's record must be completed even when the host is shutting down.
        async Task CompleteAsync(long runId, string status, JobOutcome o)
        {
            await using var conn = await db.OpenConnectionAsync(CancellationToken.None);
            await conn.ExecuteAsync("""
                UPDATE job_runs SET finished_at = now(), status = @status, found = @Found, deleted = @Deleted, failed = @Failed, error = @Error
                WHERE id = @runId
                """, new { runId, status, o.Found, o.Deleted, o.Failed, o.Error });
            await conn.ExecuteAsync(PruneSql, new { name, seconds = KeptDays.TotalSeconds, kept = KeptRuns });
        }
    }

    public async Task<IReadOnlyList<JobRunRow>> RunsAsync(string jobName, int limit, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<JobRunRow>(
            $"SELECT {Columns} FROM job_runs WHERE job_name = @jobName ORDER BY id DESC LIMIT @limit", new { jobName, limit })).ToList();
    }
}

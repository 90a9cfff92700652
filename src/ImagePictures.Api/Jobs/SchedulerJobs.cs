using System.ComponentModel.DataAnnotations;
using Dapper;
using Hangfire;
using Hangfire.Storage;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ImagePictures.Api.Jobs;

/// <summary>The contract's job-run JSON (ImagePictures.Contracts) made from a row.</summary>
public static class JobRunJsonMapping
{
    extension(JobRunJson)
    {
        public static JobRunJson From(JobRunRow r) => new(r.Id, DateTime.SpecifyKind(r.StartedAt, DateTimeKind.Utc),
            r.FinishedAt is { } f ? DateTime.SpecifyKind(f, DateTimeKind.Utc) : null, r.Node, r.Status, r.Found, r.Deleted, r.Failed, r.Error);
    }
}

/// <summary>
/// The jobs as the admin API sees them: the next run from Hangfire's recurring jobs, the paused
/// state from job_pauses (Hangfire has no pause: a paused job gets the never-cron, which the
/// dashboard shows as disabled), and the history from job_runs.
/// </summary>
public sealed class SchedulerJobs(JobStorage storage, IRecurringJobManagerV2 recurring, JobRunRecorder runs, NpgsqlDataSource db, IOptionsMonitor<JobOptions> options)
{
    public static bool Exists(string name) => JobsSetup.Catalog.ContainsKey(name);

    public async Task<IReadOnlyList<JobJson>> ListAsync(CancellationToken ct)
    {
        var paused = await PausedAsync(ct);
        List<RecurringJobDto> stored;
        using (var connection = storage.GetConnection())
            stored = connection.GetRecurringJobs(JobsSetup.Catalog.Keys);
        var list = new List<JobJson>();
        foreach (var name in JobsSetup.Catalog.Keys)
        {
            var next = paused.Contains(name) ? null : stored.FirstOrDefault(j => j.Id == name && !j.Removed)?.NextExecution;
            var last = (await runs.RunsAsync(name, 1, ct)).FirstOrDefault();
            list.Add(new JobJson(name, options.CurrentValue.ScheduleOf(name).Effective, paused.Contains(name),
                next is { } n ? new DateTimeOffset(DateTime.SpecifyKind(n, DateTimeKind.Utc)) : null, last is null ? null : JobRunJson.From(last)));
        }
        return list;
    }

    public async Task<IReadOnlyList<JobRunJson>> RunsAsync(string name, int limit, CancellationToken ct) =>
        (await runs.RunsAsync(name, Math.Clamp(limit, 1, 10_000), ct)).Select(JobRunJson.From).ToList();

    /// <summary>Enqueues one run in the shared storage, paused or not: whichever server fetches it first runs it, once.</summary>
    public async Task TriggerAsync(string name, CancellationToken ct)
    {
        if (recurring.TriggerJob(name) is not null) return;
        // Deleted in the dashboard: store it again (with its pause), then run it.
        Register(name, (await PausedAsync(ct)).Contains(name));
        recurring.TriggerJob(name);
    }

    public async Task PauseAsync(string name, CancellationToken ct)
    {
        await using (var conn = await db.OpenConnectionAsync(ct))
            await conn.ExecuteAsync("INSERT INTO job_pauses (job_name) VALUES (@name) ON CONFLICT (job_name) DO NOTHING", new { name });
        Register(name, paused: true);
    }

    public async Task ResumeAsync(string name, CancellationToken ct)
    {
        await using (var conn = await db.OpenConnectionAsync(ct))
            await conn.ExecuteAsync("DELETE FROM job_pauses WHERE job_name = @name", new { name });
        Register(name, paused: false);
    }

    public void Register(string name, bool paused)
    {
        var cron = paused ? Cron.Never() : options.CurrentValue.ScheduleOf(name).Effective;
        try
        {
            recurring.AddOrUpdate(name, JobsSetup.JobOf(name), cron, JobsSetup.RecurringOptions);
        }
        catch (ArgumentException e)
        {
            throw new InvalidOperationException($"Jobs:{name}:Cron is not a valid cron expression ('{cron}'): use standard 5 fields (minute hour day month weekday), in UTC. {e.Message}", e);
        }
    }

    public async Task<HashSet<string>> PausedAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<string>("SELECT job_name FROM job_pauses")).ToHashSet();
    }
}

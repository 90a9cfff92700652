using Quartz;

namespace ImagePictures.Api.Jobs;

public sealed record JobJson(string Name, string Cron, bool Paused, DateTimeOffset? NextRunAt, JobRunJson? LastRun);

public sealed record JobRunJson(long Id, DateTime StartedAt, DateTime? FinishedAt, string Node, string Status, int Found, int Deleted, int Failed, string? Error)
{
    public static JobRunJson From(JobRunRow r) => new(r.Id, DateTime.SpecifyKind(r.StartedAt, DateTimeKind.Utc),
        r.FinishedAt is { } f ? DateTime.SpecifyKind(f, DateTimeKind.Utc) : null, r.Node, r.Status, r.Found, r.Deleted, r.Failed, r.Error);
}

/// <summary>The jobs as the admin API and dashboard see them: Quartz's cluster-wide state plus our job_runs history.</summary>
public sealed class SchedulerJobs(ISchedulerFactory factory, JobRunRecorder runs)
{
    public static bool Exists(string name) => JobsSetup.Catalog.ContainsKey(name);

    public async Task<IReadOnlyList<JobJson>> ListAsync(CancellationToken ct)
    {
        var scheduler = await factory.GetScheduler(ct);
        var list = new List<JobJson>();
        foreach (var name in JobsSetup.Catalog.Keys)
        {
            var key = JobsSetup.TriggerKeyOf(name);
            var trigger = await scheduler.GetTrigger(key, ct);
            var state = trigger is null ? TriggerState.None : await scheduler.GetTriggerState(key, ct);
            var last = (await runs.RunsAsync(name, 1, ct)).FirstOrDefault();
            list.Add(new JobJson(name, (trigger as ICronTrigger)?.CronExpressionString ?? "", state == TriggerState.Paused,
                trigger?.NextFireTimeUtc, last is null ? null : JobRunJson.From(last)));
        }
        return list;
    }

    public async Task<IReadOnlyList<JobRunJson>> RunsAsync(string name, int limit, CancellationToken ct) =>
        (await runs.RunsAsync(name, Math.Clamp(limit, 1, 500), ct)).Select(JobRunJson.From).ToList();

    /// <summary>Stores a one-off trigger in the shared store: whichever node acquires it first runs the job, once.</summary>
    public async Task TriggerAsync(string name, CancellationToken ct) =>
        await (await factory.GetScheduler(ct)).TriggerJob(JobsSetup.JobKeyOf(name), null!, ct);

    public async Task PauseAsync(string name, CancellationToken ct) =>
        await (await factory.GetScheduler(ct)).PauseJob(JobsSetup.JobKeyOf(name), ct);

    public async Task ResumeAsync(string name, CancellationToken ct) =>
        await (await factory.GetScheduler(ct)).ResumeJob(JobsSetup.JobKeyOf(name), ct);
}

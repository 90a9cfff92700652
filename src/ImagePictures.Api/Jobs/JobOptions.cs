using System.ComponentModel.DataAnnotations;
using ImagePictures.Api.EventLog;
using ImagePictures.Api.Hosting;
using ImagePictures.Api.Trash;
using ImagePictures.Api.Uploads;

namespace ImagePictures.Api.Jobs;

/// <summary>Section Jobs: the batch size, each job's schedule (Jobs:{name}:Cron) and Hangfire's server (Jobs:Hangfire).</summary>
public sealed class JobOptions
{
    public const string Section = "Jobs";

    [Range(1, 100_000, ErrorMessage = "expected the rows one job batch handles, from 1 to 100000.")]
    public int BatchSize { get; set; } = 2000;

    [ConfigurationKeyName(TrashPurgeJob.Name)] public JobSchedule TrashPurge { get; set; } = new("0 0 * * *");
    [ConfigurationKeyName(TempCleanupJob.Name)] public JobSchedule TempCleanup { get; set; } = new("0 * * * *");
    [ConfigurationKeyName(OrphanSweepJob.Name)] public JobSchedule OrphanSweep { get; set; } = new("30 3 * * *");
    [ConfigurationKeyName(EventPruneJob.Name)] public JobSchedule EventPrune { get; set; } = new("15 * * * *");

    public HangfireServerOptions Hangfire { get; set; } = new();

    /// <summary>The schedule of a job of <see cref="JobsSetup.Catalog"/>.</summary>
    public JobSchedule ScheduleOf(string name) => name switch
    {
        TrashPurgeJob.Name => TrashPurge,
        TempCleanupJob.Name => TempCleanup,
        OrphanSweepJob.Name => OrphanSweep,
        EventPruneJob.Name => EventPrune,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a job of this service"),
    };
}

/// <summary>Jobs:{name}:Cron, a standard five-field cron in UTC; empty stands for the job's default.</summary>
public sealed class JobSchedule(string defaultCron)
{
    [FiveFieldCron] public string? Cron { get; set; } = defaultCron;

    public string Effective => string.IsNullOrWhiteSpace(Cron) ? defaultCron : Cron;
}

/// <summary>Jobs:Hangfire: the Hangfire server every instance runs.</summary>
public sealed class HangfireServerOptions
{
    /// <summary>At least 2 are used: four jobs, one of which may wait for another.</summary>
    public int WorkerCount { get; set; } = 4;

    /// <summary>How long a trigger made on another instance may wait to be fetched (one made here wakes the workers at once).</summary>
    public TimeSpan QueuePollInterval { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan SchedulePollingInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>A job fetched by an instance that died is fetched again after this; kept alive while the job runs.</summary>
    public TimeSpan InvisibilityTimeout { get; set; } = TimeSpan.FromMinutes(5);
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(15);
}

/// <summary>Section OrphanSweep: what the orphan-sweep job leaves alone.</summary>
public sealed class OrphanSweepOptions
{
    public const string Section = "OrphanSweep";

    [Range(0, 525600, ErrorMessage = "expected the minutes an unowned folder is left alone, from 0 to 525600.")]
    public double GraceMinutes { get; set; } = 60;
}

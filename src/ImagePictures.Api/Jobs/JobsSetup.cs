using ImagePictures.Api.Uploads;
using Npgsql;
using Quartz;

namespace ImagePictures.Api.Jobs;

/// <summary>
/// Quartz on the PostgreSQL job store, clustered: every instance runs a scheduler on the same
/// qrtz_ tables, so a cron fire or a manual trigger runs on exactly one node, and schedules survive
/// restarts. The schema comes from our migrations (0003), so Quartz's own provisioning is off.
/// </summary>
public static class JobsSetup
{
    public const string Group = "ImagePictures";

    /// <summary>Every job of the service by name; the admin API and dashboard know no others.</summary>
    public static readonly IReadOnlyDictionary<string, Type> Catalog = new Dictionary<string, Type>
    {
        [TrashPurgeJob.Name] = typeof(TrashPurgeJob),
        [TempCleanupJob.Name] = typeof(TempCleanupJob),
        [OrphanSweepJob.Name] = typeof(OrphanSweepJob),
        [EventPruneJob.Name] = typeof(EventPruneJob),
    };

    public static readonly IReadOnlyDictionary<string, string> DefaultCrons = new Dictionary<string, string>
    {
        [TrashPurgeJob.Name] = "0 0 * * *",
        [TempCleanupJob.Name] = "0 * * * *",
        [OrphanSweepJob.Name] = "30 3 * * *",
        [EventPruneJob.Name] = "15 * * * *",
    };

    /// <summary>
    /// Settings hold standard five-field crons (checked at start); Quartz wants seconds first, '?' in one
    /// of the day fields and 1-7 (SUN=1) week days, so names are used for those.
    /// </summary>
    public static string QuartzCron(string fiveField)
    {
        var f = fiveField.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        string[] days = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"];
        var dow = System.Text.RegularExpressions.Regex.Replace(f[4], @"(?<![/\d])\d+", m => days[int.Parse(m.Value)]);
        var (dom, week) = dow is "*" or "?" ? (f[2], "?") : (f[2] is "*" or "?" ? "?" : f[2], dow);
        return $"0 {f[0]} {f[1]} {dom} {f[3]} {week}";
    }

    public static JobKey JobKeyOf(string name) => new(name, Group);
    public static TriggerKey TriggerKeyOf(string name) => new($"{name}-cron", Group);

    public static string CronOf(IConfiguration config, string name) =>
        config[$"Jobs:{name}:Cron"] is { Length: > 0 } cron ? cron : DefaultCrons[name];

    public static void AddPicturesJobs(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<JobRunRecorder>();
        services.AddSingleton<UploadSessions>();
        services.AddSingleton<SchedulerJobs>();

        services.AddQuartz(q =>
        {
            // Each instance needs its own id in the cluster: generated from host name and time ("AUTO").
            q.ConfigureScheduler(s =>
            {
                s.InstanceName = "ImagePictures";
                s.GenerateInstanceId = true;
            });
            q.AddJobType<TrashPurgeJob>();
            q.AddJobType<TempCleanupJob>();
            q.AddJobType<OrphanSweepJob>();
            q.AddJobType<EventPruneJob>();
            q.UsePersistentStore(store =>
            {
                // Our NpgsqlDataSource, resolved when the store first needs a connection: test hosts and
                // the private PostgreSQL set the connection string only when the data source is built.
                store.UsePostgres(ds => ds.DataSourceFactory = sp => sp.GetRequiredService<NpgsqlDataSource>());
                store.UseClustering();
                store.UseSystemTextJsonSerializer();
                store.ConfigureStore(o => o.SchemaProvisioning = SchemaProvisioning.None);
            });
        });
        // Registered before Quartz's hosted service, so the jobs and triggers are stored before the scheduler starts.
        services.AddHostedService<JobScheduleRegistration>();
        services.AddQuartzHostedService(o => o.WaitForJobsToComplete = true);
    }
}

/// <summary>
/// Stores each job (durable, stable key) and its cron trigger at start-up. A trigger whose cron
/// already matches the configuration is left alone, so its pause state and next fire time survive a
/// restart; a changed cron replaces the trigger. Misfires fire once on return (FireAndProceed): a
/// midnight purge missed while every instance was down runs when the first one comes back.
/// </summary>
public sealed class JobScheduleRegistration(ISchedulerFactory factory, IConfiguration config, ILogger<JobScheduleRegistration> log) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        var scheduler = await factory.GetScheduler(ct);
        foreach (var (name, type) in JobsSetup.Catalog)
        {
            var cron = JobsSetup.QuartzCron(JobsSetup.CronOf(config, name));
            var triggerKey = JobsSetup.TriggerKeyOf(name);
            if (await scheduler.GetTrigger(triggerKey, ct) is ICronTrigger existing && existing.CronExpressionString == cron
                && await scheduler.GetJobDetail(JobsSetup.JobKeyOf(name), ct) is not null)
                continue;

            var job = JobBuilder.Create().OfType(type).WithIdentity(JobsSetup.JobKeyOf(name)).StoreDurably().Build();
            var trigger = TriggerBuilder.Create()
                .WithIdentity(triggerKey)
                .ForJob(job)
                .WithCronSchedule(cron, c => c.WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed))
                .Build();
            await scheduler.ScheduleJob(job, [trigger], new ScheduleJobOptions { Replace = true }, ct);
            log.LogInformation("Scheduled job {Job} with cron {Cron}", name, cron);
        }
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}

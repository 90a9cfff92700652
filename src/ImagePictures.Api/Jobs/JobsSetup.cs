using ImagePictures.Api.Trash;
using Dapper;
using Hangfire;
using Hangfire.AspNetCore;
using Hangfire.Common;
using Hangfire.PostgreSql;
using ImagePictures.Api.Auth;
using ImagePictures.Api.Hosting;
using ImagePictures.Api.EventLog;
using ImagePictures.Api.Uploads;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ImagePictures.Api.Jobs;

/// <summary>
/// Hangfire runs the jobs, with its storage in schema hangfire of our own PostgreSQL, reached through
/// the service's NpgsqlDataSource. Every instance runs a Hangfire server on that storage, so a cron
/// fire or a trigger runs on exactly one of them. The four recurring jobs are registered by id in
/// one place (here), and admins watch and run them in the dashboard at /hangfire.
/// </summary>
public static class JobsSetup
{
    public const string DashboardPath = "/hangfire";
    public const string Schema = "hangfire";
    public const int RetryAttempts = 3;
    /// <summary>
    /// A second run of a job waits this long for the first (DisableConcurrentExecution) instead of
    /// failing: longer than Hangfire's DistributedLockTimeout, after which a lock row counts as dead
    /// and is taken over, so the wait ends in a run, never in a lock-timeout failure. The run itself
    /// then waits on the job's advisory lock (JobRunRecorder) until the first one has finished.
    /// </summary>
    public const int WaitForRunningSeconds = 15 * 60;

    /// <summary>Every job of the service by recurring-job id; the admin API and dashboard know no others.</summary>
    public static readonly IReadOnlyDictionary<string, Type> Catalog = new Dictionary<string, Type>
    {
        [TrashPurgeJob.Name] = typeof(TrashPurgeJob),
        [TempCleanupJob.Name] = typeof(TempCleanupJob),
        [OrphanSweepJob.Name] = typeof(OrphanSweepJob),
        [EventPruneJob.Name] = typeof(EventPruneJob),
    };

    /// <summary>The Hangfire job each recurring id runs (CancellationToken.None stands for the server's shutdown token).</summary>
    public static Job JobOf(string name) => name switch
    {
        TrashPurgeJob.Name => Job.FromExpression<TrashPurgeJob>(j => j.ExecuteAsync(CancellationToken.None)),
        TempCleanupJob.Name => Job.FromExpression<TempCleanupJob>(j => j.ExecuteAsync(CancellationToken.None)),
        OrphanSweepJob.Name => Job.FromExpression<OrphanSweepJob>(j => j.ExecuteAsync(CancellationToken.None)),
        EventPruneJob.Name => Job.FromExpression<EventPruneJob>(j => j.ExecuteAsync(CancellationToken.None)),
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, "not a job of this service"),
    };

    public static readonly RecurringJobOptions RecurringOptions = new() { TimeZone = TimeZoneInfo.Utc };

    public static void AddPicturesJobs(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<JobOptions>(JobOptions.Section);
        services.AddSettings<OrphanSweepOptions>(OrphanSweepOptions.Section);
        services.AddSingleton(JobNode.ForThisProcess());
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<JobRunRecorder>();
        services.AddSingleton<SchedulerJobs>();
        foreach (var type in Catalog.Values) services.AddTransient(type);

        // Hangfire keeps its storage and activator in static properties; registered here first, each
        // host (and each test host in one process) resolves its own instead of whichever was set last.
        services.AddSingleton<JobStorage>(sp => CreateStorage(sp.GetRequiredService<NpgsqlDataSource>(), sp.GetRequiredService<IOptions<JobOptions>>().Value.Hangfire));
        services.AddSingleton<JobActivator>(sp => new AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        services.AddHangfire((sp, hangfire) => hangfire
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseLogProvider(new HangfireLogs(sp.GetRequiredService<ILoggerFactory>()))
            .UseStorage(sp.GetRequiredService<JobStorage>()));
        // The dashboard sends the antiforgery token with its POSTs (trigger, delete, requeue) when IAntiforgery is registered.
        services.AddAntiforgery();

        // Registered before Hangfire's server, so the recurring jobs are stored before it starts.
        services.AddHostedService<RecurringJobRegistration>();
        services.AddHangfireServer((sp, server) =>
        {
            var hangfire = sp.GetRequiredService<IOptions<JobOptions>>().Value.Hangfire;
            server.ServerName = sp.GetRequiredService<JobNode>().Name;
            server.WorkerCount = Math.Max(2, hangfire.WorkerCount); // four jobs; one may wait for another
            server.SchedulePollingInterval = hangfire.SchedulePollingInterval;
            server.ShutdownTimeout = hangfire.ShutdownTimeout;
        });
    }

    /// <summary>
    /// The storage over our data source. Its schema is installed (or upgraded) here under an advisory
    /// lock, so two instances starting together on a fresh database do not race each other.
    /// </summary>
    private static PostgreSqlStorage CreateStorage(NpgsqlDataSource db, HangfireServerOptions hangfire)
    {
        using (var conn = db.OpenConnection())
        {
            conn.Execute("SELECT pg_advisory_lock(hashtext('hangfire-schema'))", commandTimeout: 0);
            try { PostgreSqlObjectsInstaller.Install(conn, Schema); }
            finally { conn.Execute("SELECT pg_advisory_unlock(hashtext('hangfire-schema'))"); }
        }
        return new PostgreSqlStorage(new DataSourceConnections(db), new PostgreSqlStorageOptions
        {
            SchemaName = Schema,
            PrepareSchemaIfNecessary = false,
            QueuePollInterval = hangfire.QueuePollInterval,
            InvisibilityTimeout = hangfire.InvisibilityTimeout,
            UseSlidingInvisibilityTimeout = true,
        });
    }

    /// <summary>The dashboard, for admins only: the endpoint carries the admin policy, and Hangfire's own local-requests filter is switched off.</summary>
    public static void MapJobsDashboard(this IEndpointRouteBuilder app) =>
        app.MapHangfireDashboard(DashboardPath, new DashboardOptions
        {
            Authorization = [],
            AsyncAuthorization = [],
            DashboardTitle = "ImagePictures jobs",
            AppPath = "/admin",
            DisplayStorageConnectionString = false,
            IgnoreAntiforgeryToken = false,
        }).RequireAuthorization(AuthSetup.AdminPolicy);

    /// <summary>Hangfire.PostgreSql opens (and disposes) what this returns: pooled connections of our data source.</summary>
    private sealed class DataSourceConnections(NpgsqlDataSource db) : IConnectionFactory
    {
        public NpgsqlConnection GetOrCreateConnection() => db.CreateConnection();
    }
}

/// <summary>
/// Stores each recurring job with its configured cron at start-up (a changed cron applies from the
/// next start), or with the never-cron when the job is paused in job_pauses, so a restart does not
/// resume it. A run missed while every instance was down fires once when the first one returns.
/// </summary>
public sealed class RecurringJobRegistration(SchedulerJobs jobs) : IHostedService
{
    public async Task StartAsync(CancellationToken ct)
    {
        var paused = await jobs.PausedAsync(ct);
        foreach (var name in JobsSetup.Catalog.Keys) jobs.Register(name, paused.Contains(name));
    }

    public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
}

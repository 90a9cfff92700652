using Dapper;
using System.ComponentModel;
using Hangfire;
using ImagePictures.Api.Events;
using Microsoft.Extensions.Options;
using ImagePictures.Api.Jobs;
using Npgsql;

namespace ImagePictures.Api.EventLog;

/// <summary>event-prune: events older than Events:RetentionDays (default 7). A client away longer reloads its state instead of replaying.</summary>
public sealed class EventPruneJob(NpgsqlDataSource db, JobRunRecorder recorder, IOptionsMonitor<EventsOptions> options)
{
    public const string Name = "event-prune";

    // Events an enabled sink (RabbitMQ, a webhook) has not delivered yet stay, however old.
    private const string PruneSql = """
        DELETE FROM events WHERE occurred_at < now() - make_interval(secs => @seconds)
          AND seq <= coalesce((SELECT min(cursor_seq) FROM event_sinks WHERE NOT disabled), 9223372036854775807)
        """;

    [DisplayName(Name), AutomaticRetry(Attempts = JobsSetup.RetryAttempts)]
    [DisableConcurrentExecution(timeoutInSeconds: JobsSetup.WaitForRunningSeconds)]
    public Task<JobOutcome> ExecuteAsync(CancellationToken cancellationToken) =>
        recorder.RunAsync(Name, async ct =>
        {
            var seconds = TimeSpan.FromDays(options.CurrentValue.RetentionDays).TotalSeconds;
            await using var conn = await db.OpenConnectionAsync(ct);
            var deleted = await conn.ExecuteAsync(new CommandDefinition(PruneSql, new { seconds }, commandTimeout: 300, cancellationToken: ct));
            return new JobOutcome(deleted, deleted, 0);
        }, cancellationToken);
}

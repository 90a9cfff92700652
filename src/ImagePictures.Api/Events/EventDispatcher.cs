using System.Collections.Concurrent;
using System.Text.Json;
using Dapper;
using ImagePictures.Api.Realtime;
using Npgsql;

namespace ImagePictures.Api.Events;

/// <summary>One event of the log as it leaves the service: the hub's event JSON.</summary>
public sealed record OutgoingEvent(long Seq, string Type, DateTime OccurredAt, byte[] Body);

/// <summary>How far a sink got with a batch: the first <paramref name="Delivered"/> events, then <paramref name="Error"/> (null: all).</summary>
public sealed record SinkDelivery(int Delivered, string? Error);

/// <summary>A destination of the event log. The dispatcher owns the cursor, the order and the retries; a sink only delivers.</summary>
public interface IEventSink : IAsyncDisposable // disposed when this instance stops delivering the sink
{
    string MetricName { get; }

    /// <summary>Events the sink does not want are passed over (the cursor moves past them).</summary>
    bool Wants(string type);

    /// <summary>Delivers the events in order and reports how many of them are confirmed delivered.</summary>
    Task<SinkDelivery> DeliverAsync(IReadOnlyList<OutgoingEvent> events, CancellationToken ct);

    /// <summary>How long to wait after the n-th failure in a row (n ≥ 1).</summary>
    TimeSpan RetryDelay(int failures);

    /// <summary>After how long of failing the sink is disabled (null: never).</summary>
    TimeSpan? DisableAfter { get; }
}

/// <summary>
/// Delivers the event log to every enabled sink, each from its own cursor (the highest seq it has
/// delivered), in seq order, at least once.
/// <para>
/// Each sink runs in its own loop on its own dedicated connection, which holds the sink's advisory
/// lock: one instance of the cluster delivers a sink at a time, and when that instance dies its
/// connection and the lock go with it, and another instance takes the sink over on its next poll.
/// The loop LISTENs on the relay's channel, so a new event wakes it at once; a slow sink holds up
/// only its own loop, never the hub or another sink.
/// </para>
/// <para>
/// Seqs are taken before commit, so concurrent transactions commit them out of order and a rolled
/// back one leaves a hole. The cursor therefore never passes a missing seq until every transaction
/// that was running when the hole was first seen has ended: then the seq has either committed
/// (and is read) or never will.
/// </para>
/// </summary>
public sealed class EventDispatcher(
    NpgsqlDataSource db, EventSinkStore store, EventsOptions options, RabbitMqConnection rabbitMq, WebhookClient webhooks,
    TimeProvider clock, Operations.PicturesMetrics metrics, ILogger<EventDispatcher> log) : BackgroundService
{
    private const int LockClass = 0x1_0AE_0E5; // first key of pg_try_advisory_lock(int, int); the second is hashtext(sink id)
    private const int BatchSize = 500;
    private static readonly TimeSpan IdleCheck = TimeSpan.FromSeconds(30), HoleRecheck = TimeSpan.FromMilliseconds(100);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ConcurrentDictionary<string, Task> _running = new();
    private readonly SemaphoreSlim _sinksChanged = new(0);
    private NpgsqlDataSource? _lockDb;

    /// <summary>The sinks this instance delivers right now (holds the lock of).</summary>
    internal IReadOnlyCollection<string> HeldSinks => _held.Keys.ToList();
    private readonly ConcurrentDictionary<string, bool> _held = new();

    /// <summary>Looks at the set of sinks now instead of at the next poll (after an admin change on this instance).</summary>
    public void SinksChanged() => _sinksChanged.Release();

    private bool _registered;

    /// <summary>The RabbitMQ sink is registered before the service takes requests, so it hears every change from the first.</summary>
    public override async Task StartAsync(CancellationToken ct)
    {
        try { await RegisterRabbitMqAsync(ct); }
        catch (Exception e) when (e is NpgsqlException or TimeoutException) { log.LogWarning(e, "The RabbitMQ sink is registered once the database answers"); }
        await base.StartAsync(ct);
    }

    private async Task RegisterRabbitMqAsync(CancellationToken ct)
    {
        await store.EnsureRabbitMqAsync(options.RabbitMqUri is not null, ct);
        _registered = true;
        if (options.RabbitMqUri is not null) _ = rabbitMq.DeclareAtStartAsync(ct);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        // Lock connections must not go back to a pool: a pooled connection would keep its session's lock.
        _lockDb = new NpgsqlDataSourceBuilder(new NpgsqlConnectionStringBuilder(db.ConnectionString) { Pooling = false }.ConnectionString).Build();
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (!_registered) await RegisterRabbitMqAsync(stoppingToken);
                    foreach (var (id, kind) in await store.EnabledAsync(stoppingToken))
                    {
                        if (kind == "rabbitmq" && options.RabbitMqUri is null) continue;
                        if (_running.ContainsKey(id)) continue;
                        var task = new Task<Task>(() => RunSinkAsync(id, stoppingToken));
                        if (_running.TryAdd(id, task.Unwrap())) task.Start(TaskScheduler.Default);
                    }
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    log.LogWarning(e, "The event dispatcher cannot read the sinks; retrying");
                }
                try { await _sinksChanged.WaitAsync(options.PollInterval, stoppingToken); }
                catch (OperationCanceledException) { break; }
            }
        }
        finally
        {
            await Task.WhenAll(_running.Values.Select(t => t.ContinueWith(_ => { }, TaskScheduler.Default)));
            await _lockDb.DisposeAsync();
        }
    }

    /// <summary>Delivers one sink while this instance holds its lock; returns when the lock is taken elsewhere, the sink is gone or disabled, or the connection broke.</summary>
    private async Task RunSinkAsync(string id, CancellationToken ct)
    {
        IEventSink? sink = null;
        try
        {
            await using var conn = await _lockDb!.OpenConnectionAsync(ct);
            if (!await conn.ExecuteScalarAsync<bool>("SELECT pg_try_advisory_lock(@LockClass, hashtext(@id))", new { LockClass, id }))
                return;
            _held[id] = true;
            log.LogInformation("This instance now delivers the events to sink {Sink}", id);

            var sinkChanged = false;
            conn.Notification += (_, n) => { if (n.Channel == EventSinkStore.Channel && n.Payload == id) sinkChanged = true; };
            await conn.ExecuteAsync($"LISTEN {EventLog.Channel}; LISTEN {EventSinkStore.Channel}");

            Hole? hole = null;
            var failures = 0;
            while (!ct.IsCancellationRequested)
            {
                sinkChanged = false;
                var row = await EventSinkStore.FindAsync(conn, id);
                if (row is null || row.Disabled) return;
                sink ??= Create(row);

                var rows = (await conn.QueryAsync<LogRow>(ReadSql, new { cursor = row.CursorSeq, limit = BatchSize })).ToList();
                var (batch, cursor, waiting) = Take(rows, row.CursorSeq, ref hole);
                if (batch.Count == 0)
                {
                    if (cursor > row.CursorSeq) await AdvanceAsync(conn, id, cursor, healthy: failures == 0);
                    await conn.WaitAsync(waiting ? HoleRecheck : IdleCheck, ct);
                    continue;
                }

                var wanted = batch.Where(e => sink.Wants(e.Type)).ToList();
                var result = wanted.Count == 0 ? new SinkDelivery(0, null) : await sink.DeliverAsync(wanted, ct);
                if (result.Delivered > 0) metrics.EventsDeliveredTo(sink.MetricName, result.Delivered);
                if (result.Error is null)
                {
                    await AdvanceAsync(conn, id, cursor, healthy: true);
                    failures = 0;
                    continue;
                }

                // Everything before the first event that failed is delivered.
                var delivered = wanted[result.Delivered].Seq - 1;
                failures++;
                if (await FailAsync(conn, row, sink, delivered, progressed: result.Delivered > 0, result.Error)) return;
                var until = clock.GetUtcNow() + sink.RetryDelay(failures);
                while (!sinkChanged && clock.GetUtcNow() < until && !ct.IsCancellationRequested)
                    await conn.WaitAsync(Min(until - clock.GetUtcNow(), IdleCheck), ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (Exception e)
        {
            log.LogWarning(e, "Delivery to sink {Sink} stopped; it is taken up again on the next poll", id);
        }
        finally
        {
            _held.TryRemove(id, out _);
            _running.TryRemove(id, out _);
            if (sink is not null) await sink.DisposeAsync();
        }
    }

    private IEventSink Create(EventSinkRow row) => row.Kind switch
    {
        "rabbitmq" => new RabbitMqSink(rabbitMq, options),
        "webhook" => new WebhookSink(row, webhooks, options, clock),
        _ => throw new InvalidOperationException($"Unknown sink kind {row.Kind}"),
    };

    private sealed record Hole(long From, long Horizon);

    private sealed record LogRow(long Seq, string Type, string UserId, Guid? PictureId, DateTime OccurredAt, string? Payload, long Xmin, long Horizon);

    // The snapshot comes from the same statement as the rows: see Take. Horizon is above the xid of
    // every transaction in progress in that snapshot (xmax alone is not: it is one past the newest
    // completed xid, and a running transaction may hold a higher one).
    private const string ReadSql = $"""
        WITH s AS (
            SELECT pg_snapshot_xmin(x)::text::bigint AS xmin,
                   greatest(pg_snapshot_xmax(x)::text::bigint, (SELECT max(i::text::bigint) + 1 FROM pg_snapshot_xip(x) i)) AS horizon
            FROM pg_current_snapshot() x)
        SELECT {EventLog.SelectColumns}, s.xmin AS Xmin, s.horizon AS Horizon
        FROM events, s WHERE seq > @cursor ORDER BY seq LIMIT @limit
        """;

    /// <summary>
    /// The events after <paramref name="cursor"/> up to the first missing seq that may still commit,
    /// and the cursor after them. A missing seq is first remembered with the horizon of the snapshot
    /// that missed it (every transaction then running has a smaller xid); once a later snapshot's
    /// xmin has reached it, all of them have ended, and a seq that is still missing never commits.
    /// </summary>
    private (List<OutgoingEvent> Batch, long Cursor, bool WaitingForHole) Take(List<LogRow> rows, long cursor, ref Hole? hole)
    {
        var batch = new List<OutgoingEvent>();
        foreach (var r in rows)
        {
            if (r.Seq != cursor + 1)
            {
                if (hole is { } h && h.From == cursor + 1 && r.Xmin >= h.Horizon)
                    hole = null; // settled: the missing seqs were rolled back (or pruned)
                else
                {
                    if (hole?.From != cursor + 1) hole = new Hole(cursor + 1, r.Horizon);
                    return (batch, cursor, true);
                }
            }
            cursor = r.Seq;
            try
            {
                var e = EventLog.FromRow(new EventLog.EventRow(r.Seq, r.Type, r.UserId, r.PictureId, r.OccurredAt, r.Payload));
                batch.Add(new OutgoingEvent(e.Seq, e.Type, e.OccurredAt, JsonSerializer.SerializeToUtf8Bytes(e, Json)));
            }
            catch (JsonException ex)
            {
                log.LogError(ex, "Event {Seq} could not be read; it is not delivered to other services", r.Seq);
            }
        }
        return (batch, cursor, false);
    }

    private static async Task AdvanceAsync(NpgsqlConnection conn, string id, long cursor, bool healthy) =>
        await conn.ExecuteAsync(healthy
            ? "UPDATE event_sinks SET cursor_seq = greatest(cursor_seq, @cursor), failing_since = NULL, last_error = NULL WHERE id = @id"
            : "UPDATE event_sinks SET cursor_seq = greatest(cursor_seq, @cursor) WHERE id = @id", new { id, cursor });

    /// <summary>Records the failure; true when the sink has been failing for too long and is now disabled.</summary>
    private async Task<bool> FailAsync(NpgsqlConnection conn, EventSinkRow row, IEventSink sink, long cursor, bool progressed, string error)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var since = await conn.QuerySingleOrDefaultAsync<DateTime?>("""
            UPDATE event_sinks SET cursor_seq = greatest(cursor_seq, @cursor), last_error = @error,
                   failing_since = CASE WHEN @progressed THEN @now ELSE coalesce(failing_since, @now) END
            WHERE id = @id RETURNING failing_since
            """, new { id = row.Id, cursor, error, progressed, now });
        log.LogWarning("Delivery to sink {Sink} failed: {Error}", row.Id, error);
        if (since is not { } s || sink.DisableAfter is not { } limit || now - DateTime.SpecifyKind(s, DateTimeKind.Utc) < limit) return false;

        await conn.ExecuteAsync($"""
            UPDATE event_sinks SET disabled = true, last_error = @reason WHERE id = @id;
            SELECT pg_notify('{EventSinkStore.Channel}', @id)
            """, new { id = row.Id, reason = $"Disabled after failing since {s:yyyy-MM-dd HH:mm:ss} UTC (more than {limit.TotalHours:0.#} h); last error: {error}" });
        log.LogWarning("Sink {Sink} is disabled after failing for more than {Hours} h", row.Id, limit.TotalHours);
        return true;
    }

    /// <summary>The shorter of the two, and at least 1 ms: Npgsql's WaitAsync takes a timeout that rounds to 0 ms as "wait for ever".</summary>
    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? (a < TimeSpan.FromMilliseconds(1) ? TimeSpan.FromMilliseconds(1) : a) : b;
}

using System.Collections.Concurrent;
using System.Text.Json;
using Dapper;
using ImagePictures.Api.EventLog;
using Npgsql;

namespace ImagePictures.Api.Events;

/// <summary>One event of the log as it leaves the service: the hub's event JSON.</summary>
public sealed record OutgoingEvent(long Seq, string Type, DateTime OccurredAt, byte[] Body);

/// <summary>How far a sink got with a batch: the first <paramref name="Delivered"/> events, then <paramref name="Error"/> (null: all).</summary>
public sealed record SinkDelivery(int Delivered, string? Error);

/// <summary>
/// A kind of destination of the event log (the RabbitMQ exchange, webhooks, …): one class, registered
/// with <see cref="EventsSetup.AddEventSink{T}"/>, delivers every row of event_sinks of its
/// <see cref="Kind"/>. The dispatcher owns the cursors, the order, the event-type filter and the
/// retries; a sink only delivers.
/// </summary>
public interface IEventSink
{
    /// <summary>event_sinks.kind of the rows this sink delivers; also the metrics label.</summary>
    string Kind { get; }

    /// <summary>Whether this instance can deliver the sink's rows (false: a sink that is not configured here).</summary>
    bool IsConfigured { get; }

    /// <summary>Runs once before the service takes requests (and is retried until it succeeds): e.g. registers the sink's row.</summary>
    Task PrepareAsync(EventSinkStore store, CancellationToken ct);

    /// <summary>Delivers the events in order and reports how many of them are confirmed delivered.</summary>
    Task<SinkDelivery> DeliverAsync(EventSinkRow row, IReadOnlyList<OutgoingEvent> events, CancellationToken ct);

    /// <summary>How long to wait after the n-th failure in a row (n ≥ 1).</summary>
    TimeSpan RetryDelay(int failures);

    /// <summary>After how long of failing a row is disabled (null: never).</summary>
    TimeSpan? DisableAfter { get; }

    /// <summary>Where the row delivers to, as the admin dashboard shows it.</summary>
    string Target(EventSinkStatusRow row);
}

/// <summary>
/// Delivers the event log to every enabled sink, each from its own cursor (the highest seq it has
/// delivered), in seq order, at least once.
/// <para>
/// The dispatcher holds one connection of the service's data source (so it authenticates exactly
/// as every other connection does). On it, it LISTENs on the relay's and the sinks' channels and
/// holds one advisory lock per sink it delivers: one instance of the cluster delivers a sink at a
/// time, and when that instance dies its connection and the locks go with it, and another instance
/// takes the sinks over on its next poll. Each sink runs in its own loop, woken by the listener;
/// the loops read events and move cursors through the pool, at most <see cref="DatabaseSlots"/> at
/// once, so a hundred sinks cost the database no more connections than one. A slow sink holds up
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
    NpgsqlDataSource db, EventSinkStore store, IEnumerable<IEventSink> sinks, EventsOptions options,
    TimeProvider clock, Operations.PicturesMetrics metrics, ILogger<EventDispatcher> log) : BackgroundService
{
    private readonly Dictionary<string, IEventSink> _sinks = sinks.ToDictionary(s => s.Kind);

    private const int LockClass = 0x1_0AE_0E5; // first key of pg_try_advisory_lock(int, int); the second is hashtext(sink id)
    private const int BatchSize = 500;
    public const int DatabaseSlots = 4; // pooled connections the sink loops use at once, whatever the number of sinks
    private static readonly TimeSpan IdleCheck = TimeSpan.FromSeconds(30), HoleRecheck = TimeSpan.FromMilliseconds(100);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private readonly ConcurrentDictionary<string, SinkLoop> _running = new();
    private readonly SemaphoreSlim _slots = new(DatabaseSlots);
    private volatile bool _claimSoon;

    /// <summary>The sinks this instance delivers right now (holds the lock of).</summary>
    internal IReadOnlyCollection<string> HeldSinks => _running.Keys.ToList();

    /// <summary>
    /// Where the loop of a sink this instance delivers stopped last: at <c>Missing</c>, a seq that a running transaction
    /// may still commit, having read up to <c>ReadUpTo</c>; null when it is not waiting for a hole. Tests use it to know
    /// that later events are held back without waiting for a while.
    /// </summary>
    internal (long Missing, long ReadUpTo)? WaitingAtHole(string sinkId) =>
        _running.TryGetValue(sinkId, out var loop) && loop.AtHole is { } h ? (h.Missing, h.ReadUpTo) : null;

    /// <summary>Why the dispatcher itself cannot run (it cannot hold its connection), or null.</summary>
    public string? DispatcherError { get; private set; }

    /// <summary>The sinks whose loop stopped on an error on this instance, with the error; cleared when a loop reads again.</summary>
    public IReadOnlyDictionary<string, string> SinksThatCannotRun => _cannotRun;
    private readonly ConcurrentDictionary<string, string> _cannotRun = new();

    private bool _prepared;

    /// <summary>The sinks are prepared before the service takes requests (a sink that registers its row hears every change from the first).</summary>
    public override async Task StartAsync(CancellationToken ct)
    {
        try { await PrepareAsync(ct); }
        catch (Exception e) when (e is NpgsqlException or TimeoutException) { log.LogWarning(e, "The event sinks are prepared once the database answers"); }
        await base.StartAsync(ct);
    }

    private async Task PrepareAsync(CancellationToken ct)
    {
        foreach (var sink in _sinks.Values) await sink.PrepareAsync(store, ct);
        _prepared = true;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!_prepared) await PrepareAsync(stoppingToken);
                await DispatchAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                DispatcherError = $"The event dispatcher cannot use the database: {e.Message}";
                metrics.EventSinkFailed("dispatcher");
                log.LogWarning(e, "The event dispatcher cannot use the database; retrying");
                try { await Task.Delay(options.PollInterval, clock, stoppingToken); }
                catch (OperationCanceledException) { break; }
            }
        }
    }

    /// <summary>Runs on one connection until it breaks or the service stops; the sink loops end with it, since their locks do.</summary>
    private async Task DispatchAsync(CancellationToken stoppingToken)
    {
        using var session = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var conn = await db.OpenConnectionAsync(stoppingToken);
        try
        {
            conn.Notification += (_, n) => Notified(n.Channel, n.Payload);
            await conn.ExecuteAsync($"LISTEN {EventWriter.Channel}; LISTEN {EventSinkStore.Channel}");
            DispatcherError = null;
            while (!stoppingToken.IsCancellationRequested)
            {
                _claimSoon = false;
                await ClaimAsync(conn, session.Token);
                var until = clock.GetUtcNow() + options.PollInterval;
                while (!_claimSoon && clock.GetUtcNow() < until)
                    await conn.WaitAsync(Min(until - clock.GetUtcNow(), IdleCheck), stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested) { }
        finally
        {
            await session.CancelAsync();
            await Task.WhenAll(_running.Values.Select(l => l.Task.ContinueWith(_ => { }, TaskScheduler.Default)));
            // A connection that goes back to the pool must not keep its locks or its LISTENs (the pool's reset drops them too).
            try { if (conn.FullState == System.Data.ConnectionState.Open) await conn.ExecuteAsync("SELECT pg_advisory_unlock_all(); UNLISTEN *"); }
            catch (Exception) { /* a broken connection is not pooled again */ }
            await conn.DisposeAsync();
        }
    }

    private void Notified(string channel, string payload)
    {
        if (channel == EventWriter.Channel)
        {
            foreach (var loop in _running.Values) loop.Wake();
        }
        else if (channel == EventSinkStore.Channel)
        {
            _claimSoon = true;
            if (_running.TryGetValue(payload, out var loop)) loop.Changed();
        }
    }

    /// <summary>Releases the locks of loops that ended and takes the locks of enabled sinks nobody delivers.</summary>
    private async Task ClaimAsync(NpgsqlConnection conn, CancellationToken session)
    {
        foreach (var (id, loop) in _running.Where(r => r.Value.Task.IsCompleted).ToList())
        {
            _running.TryRemove(id, out _);
            await conn.ExecuteAsync("SELECT pg_advisory_unlock(@LockClass, hashtext(@id))", new { LockClass, id });
        }
        var enabled = await conn.QueryAsync<(string Id, string Kind)>("SELECT id, kind FROM event_sinks WHERE NOT disabled ORDER BY created_at");
        foreach (var (id, kind) in enabled)
        {
            if (!_sinks.TryGetValue(kind, out var sink) || !sink.IsConfigured || _running.ContainsKey(id)) continue;
            if (!await conn.ExecuteScalarAsync<bool>("SELECT pg_try_advisory_lock(@LockClass, hashtext(@id))", new { LockClass, id }))
                continue;
            log.LogInformation("This instance now delivers the events to sink {Sink}", id);
            var loop = new SinkLoop();
            _running[id] = loop;
            loop.Task = Task.Run(() => RunSinkAsync(id, sink, loop, session), CancellationToken.None);
        }
    }

    /// <summary>What wakes a sink's loop: a new event, or a change of the sink's row.</summary>
    private sealed class SinkLoop
    {
        private readonly SemaphoreSlim _wake = new(0, 1);
        public Task Task { get; set; } = Task.CompletedTask;
        public volatile bool SinkChanged;
        public volatile HoleWait? AtHole;

        public void Wake()
        {
            try { if (_wake.CurrentCount == 0) _wake.Release(); } catch (SemaphoreFullException) { /* already awake */ }
        }

        public void Changed()
        {
            SinkChanged = true;
            Wake();
        }

        public Task WaitAsync(TimeSpan timeout, CancellationToken ct) => _wake.WaitAsync(timeout, ct);
    }

    /// <summary>A pooled connection for one short piece of a loop's work, within the dispatcher's few slots.</summary>
    private async Task<T> WithDatabaseAsync<T>(Func<NpgsqlConnection, Task<T>> work, CancellationToken ct)
    {
        await _slots.WaitAsync(ct);
        try
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            return await work(conn);
        }
        finally { _slots.Release(); }
    }

    private Task WithDatabaseAsync(Func<NpgsqlConnection, Task> work, CancellationToken ct) =>
        WithDatabaseAsync(async conn => { await work(conn); return true; }, ct);

    /// <summary>Delivers one sink while this instance holds its lock; returns when the sink is gone or disabled, the dispatcher's connection broke, or on an error.</summary>
    private async Task RunSinkAsync(string id, IEventSink sink, SinkLoop loop, CancellationToken ct)
    {
        try
        {
            Hole? hole = null;
            var failures = 0;
            while (!ct.IsCancellationRequested)
            {
                loop.SinkChanged = false;
                var (row, rows) = await WithDatabaseAsync(async conn =>
                {
                    var r = await EventSinkStore.FindAsync(conn, id);
                    return (r, r is null || r.Disabled ? [] : (await conn.QueryAsync<LogRow>(ReadSql, new { cursor = r.CursorSeq, limit = BatchSize })).ToList());
                }, ct);
                _cannotRun.TryRemove(id, out _);
                if (row is null || row.Disabled) return;

                var (batch, cursor, waiting) = Take(rows, row.CursorSeq, ref hole);
                loop.AtHole = waiting ? new HoleWait(cursor + 1, rows[^1].Seq) : null;
                if (batch.Count == 0)
                {
                    if (cursor > row.CursorSeq) await WithDatabaseAsync(conn => AdvanceAsync(conn, id, cursor, healthy: failures == 0), ct);
                    await loop.WaitAsync(waiting ? HoleRecheck : IdleCheck, ct);
                    continue;
                }

                // Events the row does not want are passed over (the cursor moves past them).
                var wanted = batch.Where(e => row.EventTypes is not { Length: > 0 } types || types.Contains(e.Type)).ToList();
                var result = wanted.Count == 0 ? new SinkDelivery(0, null) : await sink.DeliverAsync(row, wanted, ct);
                if (result.Delivered > 0) metrics.EventsDeliveredTo(sink.Kind, result.Delivered);
                if (result.Error is null)
                {
                    await WithDatabaseAsync(conn => AdvanceAsync(conn, id, cursor, healthy: true), ct);
                    failures = 0;
                    continue;
                }

                // Everything before the first event that failed is delivered.
                var delivered = wanted[result.Delivered].Seq - 1;
                failures++;
                metrics.EventSinkFailed(sink.Kind);
                if (await WithDatabaseAsync(conn => FailAsync(conn, row, sink, delivered, progressed: result.Delivered > 0, result.Error), ct)) return;
                var until = clock.GetUtcNow() + sink.RetryDelay(failures);
                while (!loop.SinkChanged && clock.GetUtcNow() < until && !ct.IsCancellationRequested)
                    await loop.WaitAsync(Min(until - clock.GetUtcNow(), IdleCheck), ct);
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
        catch (Exception e)
        {
            await CannotRunAsync(id, sink.Kind, e, ct);
        }
        finally
        {
            _claimSoon = true; // the lock is released, and the sink taken up again, at the next claim
        }
    }

    /// <summary>A loop that stopped on an error says why where an operator looks: the sink's lastError, /health/ready and the failures metric.</summary>
    private async Task CannotRunAsync(string id, string kind, Exception e, CancellationToken ct)
    {
        var error = $"Delivery stopped: {e.Message}";
        _cannotRun[id] = error;
        metrics.EventSinkFailed(kind);
        log.LogWarning(e, "Delivery to sink {Sink} stopped; it is taken up again on the next poll", id);
        try
        {
            await WithDatabaseAsync(conn => conn.ExecuteAsync(
                "UPDATE event_sinks SET last_error = @error, failing_since = coalesce(failing_since, now()) WHERE id = @id",
                new { id, error }), ct);
        }
        catch (Exception recording) when (!ct.IsCancellationRequested)
        {
            log.LogWarning(recording, "The error of sink {Sink} could not be recorded", id);
        }
    }

    private sealed record Hole(long From, long Horizon);

    private sealed record HoleWait(long Missing, long ReadUpTo);

    private sealed record LogRow(long Seq, string Type, string UserId, Guid? PictureId, DateTime OccurredAt, string? Payload, long Xmin, long Horizon);

    // The snapshot comes from the same statement as the rows: see Take. Horizon is above the xid of
    // every transaction in progress in that snapshot (xmax alone is not: it is one past the newest
    // completed xid, and a running transaction may hold a higher one).
    private const string ReadSql = $"""
        WITH s AS (
            SELECT pg_snapshot_xmin(x)::text::bigint AS xmin,
                   greatest(pg_snapshot_xmax(x)::text::bigint, (SELECT max(i::text::bigint) + 1 FROM pg_snapshot_xip(x) i)) AS horizon
            FROM pg_current_snapshot() x)
        SELECT {EventRow.SelectColumns}, s.xmin AS Xmin, s.horizon AS Horizon
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
                var e = new EventRow(r.Seq, r.Type, r.UserId, r.PictureId, r.OccurredAt, r.Payload).ToEvent();
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

using Dapper;
using Npgsql;

namespace ImagePictures.Api.Events;

public sealed record EventSinkRow
{
    public string Id { get; init; } = "";
    public string Kind { get; init; } = "";
    public string? Url { get; init; }
    public string[]? EventTypes { get; init; }
    public string? Secret { get; init; }
    public long CursorSeq { get; init; }
    public bool Disabled { get; init; }
    public DateTime? FailingSince { get; init; }
    public string? LastError { get; init; }
    public DateTime CreatedAt { get; init; }
}

/// <summary>A sink's row with what the admin sees: how far behind the newest event it is.</summary>
public sealed record EventSinkStatusRow
{
    public string Id { get; init; } = "";
    public string Kind { get; init; } = "";
    public string? Url { get; init; }
    public string[]? EventTypes { get; init; }
    public long CursorSeq { get; init; }
    public bool Disabled { get; init; }
    public DateTime? FailingSince { get; init; }
    public string? LastError { get; init; }
    public DateTime CreatedAt { get; init; }
    public long NewestSeq { get; init; }
    public long PendingCount { get; init; }
}

/// <summary>
/// The event_sinks table. Every change of the set of sinks is announced on <see cref="Channel"/>
/// (payload: the sink id), so that the dispatcher of every instance picks it up at once.
/// </summary>
public sealed class EventSinkStore(NpgsqlDataSource db)
{
    public const string Channel = "event_sinks";
    private const string Columns = "id, kind, url, event_types, secret, cursor_seq, disabled, failing_since, last_error, created_at";

    // A new sink starts after the newest event: it hears what happens from now on.
    private const string RegisterSql = """
        INSERT INTO event_sinks (id, kind, cursor_seq)
        VALUES (@id, @kind, (SELECT coalesce(max(seq), 0) FROM events))
        ON CONFLICT (id) DO UPDATE SET disabled = false WHERE event_sinks.disabled
        """;

    // Under a transaction lock, so that two admins registering at once cannot pass the cap together.
    private const string InsertWebhookSql = $"""
        WITH s AS (
            INSERT INTO event_sinks (id, kind, url, event_types, secret, cursor_seq)
            SELECT @id, 'webhook', @url, @eventTypes, @secret, (SELECT coalesce(max(seq), 0) FROM events)
            WHERE (SELECT count(*) FROM event_sinks WHERE kind = 'webhook') < @maxEndpoints
            RETURNING {Columns})
        SELECT s.*, pg_notify('{Channel}', s.id) IS NULL AS notified FROM s
        """;

    // Pending counts only the events the endpoint wants; lag (newest - cursor) counts every seq.
    private const string StatusSql = """
        SELECT s.id, s.kind, s.url, s.event_types, s.cursor_seq, s.disabled, s.failing_since, s.last_error, s.created_at,
               n.newest AS newest_seq,
               (SELECT count(*) FROM events e WHERE e.seq > s.cursor_seq
                   AND (s.event_types IS NULL OR e.type = ANY (s.event_types))) AS pending_count
        FROM event_sinks s, (SELECT coalesce(max(seq), 0) AS newest FROM events) n
        WHERE (CAST(@kind AS text) IS NULL OR s.kind = @kind)
        ORDER BY s.kind, s.created_at, s.id
        """;

    /// <summary>For a sink of a single row (as the RabbitMQ exchange): creates or re-enables the row, or disables it (event-prune then stops keeping events for it).</summary>
    public async Task RegisterAsync(string id, string kind, bool enabled, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync(enabled ? RegisterSql : "UPDATE event_sinks SET disabled = true WHERE id = @id AND NOT disabled", new { id, kind });
    }

    public static Task<EventSinkRow?> FindAsync(NpgsqlConnection conn, string id) =>
        conn.QuerySingleOrDefaultAsync<EventSinkRow>($"SELECT {Columns} FROM event_sinks WHERE id = @id", new { id });

    /// <summary>The new endpoint, or null when there are <paramref name="maxEndpoints"/> already.</summary>
    public async Task<EventSinkRow?> CreateWebhookAsync(string url, string[]? eventTypes, string secret, int maxEndpoints, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await using var tx = await conn.BeginTransactionAsync(ct);
        await conn.ExecuteAsync("SELECT pg_advisory_xact_lock(hashtext('event_sinks.webhooks'))", transaction: tx);
        var row = await conn.QuerySingleOrDefaultAsync<EventSinkRow>(InsertWebhookSql, new { id = Guid.NewGuid().ToString(), url, eventTypes, secret, maxEndpoints }, tx);
        await tx.CommitAsync(ct);
        return row;
    }

    public async Task<IReadOnlyList<EventSinkStatusRow>> StatusAsync(string? kind, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<EventSinkStatusRow>(new CommandDefinition(StatusSql, new { kind }, cancellationToken: ct))).ToList();
    }

    public async Task<bool> DeleteWebhookAsync(string id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<int>($"""
            WITH d AS (DELETE FROM event_sinks WHERE id = @id AND kind = 'webhook' RETURNING id)
            SELECT count(pg_notify('{Channel}', d.id)) FROM d
            """, new { id }) > 0;
    }

    public async Task<bool> EnableWebhookAsync(string id, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return await conn.ExecuteScalarAsync<int>($"""
            WITH u AS (UPDATE event_sinks SET disabled = false, failing_since = NULL, last_error = NULL
                       WHERE id = @id AND kind = 'webhook' RETURNING id)
            SELECT count(pg_notify('{Channel}', u.id)) FROM u
            """, new { id }) > 0;
    }
}

using System.Collections.Concurrent;
using Dapper;
using ImagePictures.Api.Avatars;
using ImagePictures.Api.EventLog;
using Microsoft.AspNetCore.SignalR;
using Npgsql;
using Polly;

namespace ImagePictures.Api.Realtime;

/// <summary>
/// Forwards the events of every instance to this instance's hub connections. One dedicated
/// connection LISTENs on <see cref="EventWriter.Channel"/>; each notification carries a seq, whose row
/// is read and sent to the owner's group (and, for avatar changes and account deletion, to the
/// watchers' group). Every event also invalidates what this instance's image caches hold of its user and picture.
/// <para>
/// Concurrent transactions commit their seqs out of order, so delivery is tracked per seq, not by
/// a high-water mark alone: after a reconnect the relay catches up over a window below the highest
/// seq it delivered and skips every seq it has already delivered. Nothing is lost or doubled unless
/// a transaction commits more than <see cref="CatchUpWindow"/> seqs behind the others while the
/// listening connection is down.
/// </para>
/// </summary>
public sealed class EventRelay(
    NpgsqlDataSource db, IHubContext<PicturesHub, IPicturesClient> hub, IHubContext<PicturesHub> untypedHub,
    ActiveAvatarCache avatars, LivePictureCache pictures, Gravatar.EmailHashIndex emails, Operations.PicturesMetrics metrics, ILogger<EventRelay> log)
    : BackgroundService
{
    internal const long CatchUpWindow = 1000;
    private static readonly TimeSpan IdleCheck = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(500);

    /// <summary>Connecting (with LISTEN and the catch-up) is tried until it works or the service stops: after 0.5 s, then twice as long each time, at most 10 s.</summary>
    private readonly ResiliencePipeline _reconnect = Hosting.RetryUntilStopped.Pipeline(FirstRetryDelay, TimeSpan.FromSeconds(10), _ => true,
        (e, delay) => log.LogWarning(e, "The event relay could not listen on the database; trying again in {Delay} ms", delay.TotalMilliseconds));

    private readonly ConcurrentQueue<long> _notified = new();
    private readonly HashSet<long> _delivered = new(); // seqs above _maxSeen - 2 * CatchUpWindow known to be delivered (or older than the start)
    private readonly TaskCompletionSource _firstListen = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _maxSeen = -1; // -1: not started yet
    private long _deliveredCount;

    /// <summary>Completes once LISTEN is first in place: every change committed after that is relayed.</summary>
    internal Task Listening => _firstListen.Task;

    /// <summary>Each event after it was sent to the hub's groups (in-process listeners, such as <see cref="RelayAvatarEvents"/>).</summary>
    public event Action<PictureEvent>? Delivered;

    /// <summary>The backend pid of the listening connection (tests terminate it to simulate a drop).</summary>
    internal int? ListenerPid { get; private set; }

    /// <summary>Events forwarded so far by this instance.</summary>
    internal long DeliveredCount => Interlocked.Read(ref _deliveredCount);

    /// <summary>Number of times the listening connection was (re)established.</summary>
    internal int Connects { get; private set; }

    public override async Task StartAsync(CancellationToken ct)
    {
        await base.StartAsync(ct);
        // Wait (briefly) until LISTEN is in place, so that changes made right after start-up are relayed.
        try { await _firstListen.Task.WaitAsync(TimeSpan.FromSeconds(10), ct); }
        catch (TimeoutException) { log.LogWarning("The event relay is not listening yet; it keeps retrying in the background"); }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var conn = await _reconnect.ExecuteAsync(ConnectAsync, stoppingToken);
                await ListenAsync(conn, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e)
            {
                // The back-off starts anew after a connection that worked; the first pause keeps a
                // connection that drops as soon as it is made from spinning.
                ListenerPid = null;
                log.LogWarning(e, "The event relay lost its database connection; reconnecting in {Delay} ms", FirstRetryDelay.TotalMilliseconds);
                try { await Task.Delay(FirstRetryDelay, stoppingToken); }
                catch (OperationCanceledException) { break; }
            }
        }
        ListenerPid = null;
    }

    /// <summary>A connection that LISTENs, after the events it missed (or, the first time, the recent history) are settled.</summary>
    private async ValueTask<NpgsqlConnection> ConnectAsync(CancellationToken ct)
    {
        var conn = await db.OpenConnectionAsync(ct);
        try
        {
            await PrepareAsync(conn);
            return conn;
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }

    private async Task PrepareAsync(NpgsqlConnection conn)
    {
        conn.Notification += (_, e) =>
        {
            if (long.TryParse(e.Payload, out var seq)) _notified.Enqueue(seq);
        };
        await conn.ExecuteAsync($"LISTEN {EventWriter.Channel}");
        ListenerPid = conn.ProcessID;
        Connects++;

        if (_maxSeen < 0)
        {
            // First start: everything committed so far is history, not news. Remember the recent seqs
            // so that a later catch-up does not send them.
            var recent = (await conn.QueryAsync<long>(
                "SELECT seq FROM events WHERE seq > (SELECT coalesce(max(seq), 0) FROM events) - @window",
                new { window = CatchUpWindow })).ToList();
            foreach (var seq in recent) _delivered.Add(seq);
            _maxSeen = recent.Count == 0 ? 0 : recent.Max();
        }
        else
        {
            // Reconnected: whatever committed while we were away (notifications are lost with the connection).
            var missed = await conn.QueryAsync<EventRow>(
                $"SELECT {EventRow.SelectColumns} FROM events WHERE seq > @from ORDER BY seq",
                new { from = _maxSeen - CatchUpWindow });
            await DeliverAsync(missed);
        }
        _firstListen.TrySetResult();
    }

    private async Task ListenAsync(NpgsqlConnection conn, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            await DrainAsync(conn);
            if (!await conn.WaitAsync(IdleCheck, ct))
                await conn.ExecuteScalarAsync<int>("SELECT 1"); // a dead connection fails here instead of waiting forever
        }
        ct.ThrowIfCancellationRequested();
    }

    private async Task DrainAsync(NpgsqlConnection conn)
    {
        while (!_notified.IsEmpty)
        {
            var seqs = new List<long>();
            while (_notified.TryDequeue(out var seq)) if (!_delivered.Contains(seq)) seqs.Add(seq);
            if (seqs.Count == 0) return;
            var rows = await conn.QueryAsync<EventRow>(
                $"SELECT {EventRow.SelectColumns} FROM events WHERE seq = ANY(@seqs) ORDER BY seq", new { seqs = seqs.ToArray() });
            await DeliverAsync(rows);
        }
    }

    private async Task DeliverAsync(IEnumerable<EventRow> rows)
    {
        foreach (var row in rows)
        {
            if (!_delivered.Add(row.Seq)) continue;
            if (row.Seq > _maxSeen) _maxSeen = row.Seq;
            PictureEvent e;
            try { e = row.ToEvent(); }
            catch (Exception ex)
            {
                log.LogError(ex, "Event {Seq} could not be read; skipped", row.Seq);
                continue;
            }
            avatars.Invalidate(e.UserId);
            pictures.Apply(e);
            IReadOnlyList<EmailHash> hashesBefore = [];
            try
            {
                // Read before Apply, which forgets a deleted account's hashes.
                if (e.Type is EventTypes.UserPicturesDeleted or EventTypes.EmailsChanged)
                    hashesBefore = await emails.PreviousHashesAsync(e.UserId, CancellationToken.None);
                else if (e.Type == EventTypes.ActivePictureChanged)
                    hashesBefore = await emails.HashesOfAsync(e.UserId, CancellationToken.None);
            }
            catch (Exception ex) { log.LogWarning(ex, "The e-mail hashes of event {Seq} could not be read; their watchers miss it", row.Seq); }
            emails.Apply(e);
            try
            {
                await Send(hub.Clients.Group(PicturesHub.UserGroup(e.UserId)), e);
                if (EventTypes.ForWatchers.Contains(e.Type))
                {
                    await Send(hub.Clients.Group(PicturesHub.WatchGroup(e.UserId)), e);
                    // Watchers who are not admins get the public shape, which IPicturesClient's signatures cannot carry.
                    await untypedHub.Clients.Group(PicturesHub.PublicWatchGroup(e.UserId)).SendAsync(e.Type, PublicPictureEvent.From(e));
                    await SendToHashWatchers(e, e.Type, hashesBefore, e.Picture is { } p ? new HashAvatarPicture(p.ContentHash) : null);
                }
                else if (e.Type == EventTypes.EmailsChanged)
                {
                    // An address added or removed changes what /avatar/{hash} shows: its watchers reload (picture null: "look again").
                    var moved = hashesBefore.ToHashSet();
                    moved.SymmetricExceptWith(e.Emails ?? []);
                    await SendToHashWatchers(e, EventTypes.ActivePictureChanged, moved.ToList(), null);
                }
                Interlocked.Increment(ref _deliveredCount);
                metrics.HubEventPushed(e.Type);
                Delivered?.Invoke(e);
            }
            catch (Exception ex)
            {
                log.LogWarning(ex, "Event {Seq} could not be sent to every connection", row.Seq);
            }
        }
        if (_delivered.Count > 4 * CatchUpWindow)
            _delivered.RemoveWhere(seq => seq <= _maxSeen - 2 * CatchUpWindow);
    }

    /// <summary>To the watchers of each hash (both forms): the event with the hash as userId, so the user id never reaches them.</summary>
    private async Task SendToHashWatchers(PictureEvent e, string type, IReadOnlyList<EmailHash> hashes, HashAvatarPicture? picture)
    {
        foreach (var h in hashes)
            foreach (var hash in new[] { h.Md5, h.Sha256 })
                await untypedHub.Clients.Group(PicturesHub.HashWatchGroup(hash)).SendAsync(type, new HashAvatarEvent(e.Seq, type, hash, e.OccurredAt, picture));
    }

    private Task Send(IPicturesClient client, PictureEvent e) => e.Type switch
    {
        EventTypes.PictureUploaded => client.PictureUploaded(e),
        EventTypes.PictureUpdated => client.PictureUpdated(e),
        EventTypes.ActivePictureChanged => client.ActivePictureChanged(e),
        EventTypes.PictureTrashed => client.PictureTrashed(e),
        EventTypes.PictureRestored => client.PictureRestored(e),
        EventTypes.PicturePurged => client.PicturePurged(e),
        EventTypes.UserPicturesDeleted => client.UserPicturesDeleted(e),
        EventTypes.EmailsChanged => client.EmailsChanged(e),
        _ => LogUnknown(e),
    };

    private Task LogUnknown(PictureEvent e)
    {
        log.LogWarning("Event {Seq} has the unknown type {Type}; not sent", e.Seq, e.Type);
        return Task.CompletedTask;
    }
}

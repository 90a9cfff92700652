using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections.Client;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace ImagePictures.Client;

/// <summary>What an avatar view needs: follow one user's avatar (the seam a view's tests fake).</summary>
public interface IAvatarEvents
{
    /// <summary>The service whose /avatars to show; null: the page's own origin.</summary>
    Uri? BaseAddress { get; }

    /// <summary>
    /// Watches <paramref name="userId"/> until the returned handle is disposed. <paramref name="onChange"/>
    /// hears every new version of the avatar: a change, a deleted account, or a reconnect (after which
    /// the avatar should be reloaded, as changes may have been missed).
    /// </summary>
    Task<IAsyncDisposable> WatchAvatarAsync(string userId, Func<AvatarChange, Task> onChange, CancellationToken ct = default);

    /// <summary>
    /// As <see cref="WatchAvatarAsync"/>, for the avatar behind an e-mail hash (MD5 or SHA-256 hex, as /avatar/{hash}
    /// takes it). The changes carry the hash (lower case) as <see cref="AvatarChange.UserId"/>: the user stays unknown.
    /// </summary>
    Task<IAsyncDisposable> WatchAvatarByHashAsync(string emailHash, Func<AvatarChange, Task> onChange, CancellationToken ct = default) =>
        throw new NotSupportedException("This IAvatarEvents does not follow e-mail hashes.");
}

/// <summary>
/// A new version of a user's avatar. <see cref="Version"/> goes into the image address
/// (/avatars/{userId}?size=…&amp;v={Version}) so no cache shows an old picture.
/// </summary>
public sealed record AvatarChange(string UserId, string Version, PictureJson? Picture)
{
    internal static AvatarChange From(PictureEvent e) => e.Type == EventTypes.UserPicturesDeleted || e.Picture is null
        ? new(e.UserId, "d" + e.Seq, null)
        : new(e.UserId, e.Picture.ContentHash[..Math.Min(16, e.Picture.ContentHash.Length)], e.Picture);
}

/// <summary>
/// The hub at /hubs/pictures: typed events, watches that survive reconnects, and (with a token) the
/// caller's own missed events fetched from the events route after a reconnect, each seq delivered once.
/// Without a token it connects anonymously: it may only watch, and hears avatar changes only.
/// </summary>
public sealed class ImagePicturesEvents : IAvatarEvents, IAsyncDisposable
{
    /// <summary>Own events below the highest seen seq that a reconnect still looks for (commits can land out of seq order).</summary>
    private const int CatchUpWindow = 50;

    private readonly HubConnection _hub;
    private readonly ImagePicturesClient _client;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _watchCounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _hashWatchCounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, List<Func<AvatarChange, Task>>> _avatarHandlers = new(StringComparer.Ordinal);
    private readonly HashSet<long> _delivered = new(); // own seqs delivered
    private readonly HashSet<long> _history = new(); // own seqs older than the first connection: never delivered by a catch-up
    private readonly SemaphoreSlim _startLock = new(1, 1);
    private string? _ownUserId;
    private long _lastOwnSeq;
    private bool _baselineKnown;

    /// <param name="client">The service's address and token provider; also fetches the missed events.</param>
    /// <param name="configureConnection">Transport settings of the hub connection (headers, transports, a test server's handler).</param>
    public ImagePicturesEvents(ImagePicturesClient client, Action<HttpConnectionOptions>? configureConnection = null)
    {
        _client = client;
        var hubUrl = new Uri(client.BaseAddress, "hubs/pictures");
        _hub = new HubConnectionBuilder()
            .WithUrl(hubUrl, o =>
            {
                o.AccessTokenProvider = async () => await client.TokenAsync(default);
                configureConnection?.Invoke(o);
            })
            .WithAutomaticReconnect(new KeepTrying())
            .AddJsonProtocol(o => o.PayloadSerializerOptions = ImagePicturesClient.Json)
            .Build();
        foreach (var type in EventTypes.All) _hub.On<PictureEvent>(type, e => OnEventAsync(e, live: true));
        _hub.Reconnected += _ => ResyncAsync();
    }

    public event Action<PictureEvent>? PictureUploaded, PictureUpdated, ActivePictureChanged, PictureTrashed, PictureRestored, PicturePurged, UserPicturesDeleted, EmailsChanged;

    /// <summary>Every event, of any type, once.</summary>
    public event Action<PictureEvent>? EventReceived;

    /// <summary>After a reconnect, once the watches are back and the catch-up is done.</summary>
    public event Func<Task>? Reconnected;

    public HubConnectionState State => _hub.State;

    public Uri? BaseAddress => _client.BaseAddress;

    /// <summary>The highest seq of the signed-in user's own events seen so far.</summary>
    public long LastSeq { get { lock (_gate) return _lastOwnSeq; } }

    /// <summary>
    /// Connects (once; later calls return at once). With a token and <paramref name="afterSeq"/>, the
    /// own events after it are delivered first; without it, events from now on.
    /// </summary>
    public async Task StartAsync(long? afterSeq = null, CancellationToken ct = default)
    {
        await _startLock.WaitAsync(ct);
        try
        {
            if (_hub.State != HubConnectionState.Disconnected) return;
            // Known before the first event can arrive: the own events are the ones deduplicated and caught up.
            if (await _client.TokenAsync(ct) is { } token) _ownUserId ??= SubjectOf(token);
            await _hub.StartAsync(ct);
            if (afterSeq is { } seq) lock (_gate) { _lastOwnSeq = seq; _baselineKnown = true; }
            await ResyncAsync(firstConnect: true, ct);
        }
        finally { _startLock.Release(); }
    }

    public Task StopAsync(CancellationToken ct = default) => _hub.StopAsync(ct);

    /// <summary>Hears ActivePictureChanged and UserPicturesDeleted of these users, also after reconnects.</summary>
    public async Task WatchAsync(IEnumerable<string> userIds, CancellationToken ct = default)
    {
        var fresh = new List<string>();
        lock (_gate)
            foreach (var id in userIds.Distinct())
                if ((_watchCounts[id] = _watchCounts.GetValueOrDefault(id) + 1) == 1) fresh.Add(id);
        if (fresh.Count > 0 && _hub.State == HubConnectionState.Connected) await _hub.InvokeAsync("Watch", fresh.ToArray(), ct);
    }

    public Task WatchAsync(params string[] userIds) => WatchAsync(userIds, default);

    public async Task UnwatchAsync(IEnumerable<string> userIds, CancellationToken ct = default)
    {
        var gone = new List<string>();
        lock (_gate)
            foreach (var id in userIds.Distinct())
            {
                if (!_watchCounts.TryGetValue(id, out var n)) continue;
                if (n > 1) _watchCounts[id] = n - 1;
                else { _watchCounts.Remove(id); gone.Add(id); }
            }
        if (gone.Count > 0 && _hub.State == HubConnectionState.Connected) await _hub.InvokeAsync("Unwatch", gone.ToArray(), ct);
    }

    public Task UnwatchAsync(params string[] userIds) => UnwatchAsync(userIds, default);

    /// <summary>
    /// Hears the avatar changes behind these e-mail hashes (32 or 64 hex digits), also after reconnects. Each event's
    /// UserId is the hash (lower case), never the user's id; its picture, if any, has only a content hash.
    /// </summary>
    public async Task WatchHashesAsync(IEnumerable<string> hashes, CancellationToken ct = default)
    {
        var fresh = new List<string>();
        lock (_gate)
            foreach (var h in hashes.Select(h => h.ToLowerInvariant()).Distinct())
                if ((_hashWatchCounts[h] = _hashWatchCounts.GetValueOrDefault(h) + 1) == 1) fresh.Add(h);
        if (fresh.Count > 0 && _hub.State == HubConnectionState.Connected) await _hub.InvokeAsync("WatchHashes", fresh.ToArray(), ct);
    }

    public async Task UnwatchHashesAsync(IEnumerable<string> hashes, CancellationToken ct = default)
    {
        var gone = new List<string>();
        lock (_gate)
            foreach (var h in hashes.Select(h => h.ToLowerInvariant()).Distinct())
            {
                if (!_hashWatchCounts.TryGetValue(h, out var n)) continue;
                if (n > 1) _hashWatchCounts[h] = n - 1;
                else { _hashWatchCounts.Remove(h); gone.Add(h); }
            }
        if (gone.Count > 0 && _hub.State == HubConnectionState.Connected) await _hub.InvokeAsync("UnwatchHashes", gone.ToArray(), ct);
    }

    public Task<IAsyncDisposable> WatchAvatarAsync(string userId, Func<AvatarChange, Task> onChange, CancellationToken ct = default) =>
        WatchAvatarAsync(userId, isHash: false, onChange, ct);

    public Task<IAsyncDisposable> WatchAvatarByHashAsync(string emailHash, Func<AvatarChange, Task> onChange, CancellationToken ct = default) =>
        WatchAvatarAsync(emailHash.ToLowerInvariant(), isHash: true, onChange, ct);

    // Handlers are keyed by the event's UserId: a user id, or for hash watches the hash the service sends as UserId.
    private async Task<IAsyncDisposable> WatchAvatarAsync(string userId, bool isHash, Func<AvatarChange, Task> onChange, CancellationToken ct)
    {
        lock (_gate)
        {
            if (!_avatarHandlers.TryGetValue(userId, out var list)) _avatarHandlers[userId] = list = [];
            list.Add(onChange);
        }
        var handle = new AvatarWatch(this, userId, isHash, onChange);
        if (isHash) await WatchHashesAsync([userId], ct);
        else await WatchAsync([userId], ct);
        _ = StartInBackground();
        return handle;
    }

    private async Task StartInBackground()
    {
        try { await StartAsync(); }
        catch (Exception) { /* the automatic reconnection does not cover a first start: a view retries on its next watch */ }
    }

    private sealed class AvatarWatch(ImagePicturesEvents events, string userId, bool isHash, Func<AvatarChange, Task> onChange) : IAsyncDisposable
    {
        private int _disposed;

        public async ValueTask DisposeAsync()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
            lock (events._gate)
                if (events._avatarHandlers.TryGetValue(userId, out var list) && list.Remove(onChange) && list.Count == 0)
                    events._avatarHandlers.Remove(userId);
            try
            {
                if (isHash) await events.UnwatchHashesAsync([userId]);
                else await events.UnwatchAsync([userId]);
            }
            catch (Exception) { /* the connection is gone: nothing left to unwatch */ }
        }
    }

    private async Task OnEventAsync(PictureEvent e, bool live)
    {
        lock (_gate)
        {
            if (_ownUserId is not null && e.UserId == _ownUserId)
            {
                if (!live && _history.Contains(e.Seq)) return;
                if (!_delivered.Add(e.Seq)) return;
                _lastOwnSeq = Math.Max(_lastOwnSeq, e.Seq);
                if (_delivered.Count > 4096) _delivered.RemoveWhere(s => s < _lastOwnSeq - 2 * CatchUpWindow);
            }
        }
        EventReceived?.Invoke(e);
        (e.Type switch
        {
            EventTypes.PictureUploaded => PictureUploaded,
            EventTypes.PictureUpdated => PictureUpdated,
            EventTypes.ActivePictureChanged => ActivePictureChanged,
            EventTypes.PictureTrashed => PictureTrashed,
            EventTypes.PictureRestored => PictureRestored,
            EventTypes.PicturePurged => PicturePurged,
            EventTypes.UserPicturesDeleted => UserPicturesDeleted,
            EventTypes.EmailsChanged => EmailsChanged,
            _ => null,
        })?.Invoke(e);
        if (EventTypes.ForWatchers.Contains(e.Type))
            await NotifyAvatarsAsync(e.UserId, AvatarChange.From(e));
    }

    private async Task NotifyAvatarsAsync(string userId, AvatarChange change)
    {
        Func<AvatarChange, Task>[] handlers;
        lock (_gate) handlers = _avatarHandlers.TryGetValue(userId, out var list) ? [.. list] : [];
        foreach (var handler in handlers) await handler(change);
    }

    /// <summary>After (re)connecting: watch everyone again, fetch the own events missed, reload the avatars.</summary>
    private async Task ResyncAsync(bool firstConnect = false, CancellationToken ct = default)
    {
        string[] watched, hashes;
        lock (_gate) { watched = [.. _watchCounts.Keys]; hashes = [.. _hashWatchCounts.Keys]; }
        if (watched.Length > 0) await _hub.InvokeAsync("Watch", watched, ct);
        if (hashes.Length > 0) await _hub.InvokeAsync("WatchHashes", hashes, ct);

        if (_ownUserId is not null) await CatchUpAsync(ct);
        if (firstConnect) return;

        var version = "r" + DateTime.UtcNow.Ticks.ToString("x");
        foreach (var userId in watched.Concat(hashes)) await NotifyAvatarsAsync(userId, new AvatarChange(userId, version, null));
        if (Reconnected is { } reconnected) await reconnected();
    }

    private async Task CatchUpAsync(CancellationToken ct)
    {
        bool baselineKnown;
        long after;
        lock (_gate) { baselineKnown = _baselineKnown; after = Math.Max(0, _lastOwnSeq - (baselineKnown ? CatchUpWindow : 0)); }
        const int page = 1000;
        while (true)
        {
            var events = await _client.GetEventsAsync("me", after, page, ct);
            foreach (var e in events)
            {
                if (baselineKnown) await OnEventAsync(e, live: false);
                else lock (_gate) { _history.Add(e.Seq); _lastOwnSeq = Math.Max(_lastOwnSeq, e.Seq); } // the past, not news
                after = Math.Max(after, e.Seq);
            }
            if (events.Count < page) break;
        }
        lock (_gate) _baselineKnown = true;
    }

    /// <summary>The token's sub (read, not validated: the service validates it).</summary>
    private static string? SubjectOf(string jwt)
    {
        var parts = jwt.Split('.');
        if (parts.Length < 2) return null;
        try
        {
            var payload = parts[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + (4 - payload.Length % 4) % 4, '=');
            using var doc = JsonDocument.Parse(Encoding.UTF8.GetString(Convert.FromBase64String(payload)));
            return doc.RootElement.TryGetProperty("sub", out var sub) ? sub.GetString() : null;
        }
        catch (Exception e) when (e is FormatException or JsonException) { return null; }
    }

    public async ValueTask DisposeAsync() => await _hub.DisposeAsync();

    /// <summary>Reconnects for as long as it takes: quickly at first, then every 10 seconds.</summary>
    private sealed class KeepTrying : IRetryPolicy
    {
        private static readonly TimeSpan[] Delays = [TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5)];

        public TimeSpan? NextRetryDelay(RetryContext context) =>
            context.PreviousRetryCount < Delays.Length ? Delays[context.PreviousRetryCount] : TimeSpan.FromSeconds(10);
    }
}

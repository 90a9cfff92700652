using System.Collections.Concurrent;
using ImagePictures.Client;

namespace ImagePictures.Api.Realtime;

/// <summary>
/// <see cref="IAvatarEvents"/> for the components the service renders itself (the admin dashboard's
/// LiveAvatar): they hear this instance's <see cref="EventRelay"/> directly rather than open a hub
/// connection to their own service. Image addresses stay relative (same origin).
/// </summary>
public sealed class RelayAvatarEvents : IAvatarEvents
{
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<object, Func<AvatarChange, Task>>> _handlers = new(StringComparer.Ordinal);
    private readonly ILogger<RelayAvatarEvents> _log;

    public RelayAvatarEvents(EventRelay relay, ILogger<RelayAvatarEvents> log)
    {
        _log = log;
        relay.Delivered += OnDelivered;
    }

    public Uri? BaseAddress => null;

    public Task<IAsyncDisposable> WatchAvatarAsync(string userId, Func<AvatarChange, Task> onChange, CancellationToken ct = default)
    {
        var key = new object();
        _handlers.GetOrAdd(userId, _ => new())[key] = onChange;
        return Task.FromResult<IAsyncDisposable>(new Subscription(() =>
        {
            if (_handlers.TryGetValue(userId, out var forUser)) forUser.TryRemove(key, out _);
        }));
    }

    private void OnDelivered(PictureEvent e)
    {
        if (!EventTypes.ForWatchers.Contains(e.Type)) return;
        if (!_handlers.TryGetValue(e.UserId, out var forUser) || forUser.IsEmpty) return;
        var p = e.Type == EventTypes.UserPicturesDeleted ? null : e.Picture;
        var change = p is null
            ? new AvatarChange(e.UserId, "d" + e.Seq, null)
            : new AvatarChange(e.UserId, p.ContentHash[..16], p);
        foreach (var handler in forUser.Values) _ = NotifyAsync(handler, change);
    }

    private async Task NotifyAsync(Func<AvatarChange, Task> handler, AvatarChange change)
    {
        try { await handler(change); }
        catch (Exception ex) { _log.LogWarning(ex, "An avatar view failed to take the change of {UserId}", change.UserId); }
    }

    private sealed class Subscription(Action dispose) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() { dispose(); return ValueTask.CompletedTask; }
    }
}

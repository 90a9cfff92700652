using System.Collections.Concurrent;
using ImagePictures.Api.Auth;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace ImagePictures.Api.Realtime;

/// <summary>The contract's server-to-client methods, each with one event argument.</summary>
public interface IPicturesClient
{
    Task PictureUploaded(PictureEvent e);
    Task PictureUpdated(PictureEvent e);
    Task ActivePictureChanged(PictureEvent e);
    Task PictureTrashed(PictureEvent e);
    Task PictureRestored(PictureEvent e);
    Task PicturePurged(PictureEvent e);
    Task UserPicturesDeleted(PictureEvent e);
}

/// <summary>
/// /hubs/pictures. A connection joins its own user's group and hears every event of its own;
/// <see cref="Watch"/> adds other users, of whom it hears only avatar changes and account deletion.
/// </summary>
[Authorize]
public sealed class PicturesHub(WatchRegistry watches, IOptions<RealtimeOptions> options) : Hub<IPicturesClient>
{
    public static string UserGroup(string userId) => "user:" + userId;
    public static string WatchGroup(string userId) => "watch:" + userId;

    public override async Task OnConnectedAsync()
    {
        var sub = Context.User?.UserId();
        if (string.IsNullOrEmpty(sub))
        {
            Context.Abort(); // [Authorize] lets no anonymous caller in; a token without sub has no user to hear about
            return;
        }
        await Groups.AddToGroupAsync(Context.ConnectionId, UserGroup(sub));
        Operations.PicturesMetrics.HubConnected(Context.Items, "user");
        await base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        watches.Forget(Context.ConnectionId);
        Operations.PicturesMetrics.HubDisconnected(Context.Items);
        return base.OnDisconnectedAsync(exception);
    }

    /// <summary>Subscribes to the avatar changes of these users (at most Realtime:MaxWatchedUsers per connection in total).</summary>
    public async Task Watch(string[] userIds)
    {
        var ids = Validate(userIds);
        var self = Context.User?.UserId();
        // The own group already carries every event of the caller; watching oneself would deliver twice.
        ids = ids.Where(id => id != self).ToArray();
        var max = options.Value.MaxWatchedUsers;
        var added = watches.Add(Context.ConnectionId, ids, max)
            ?? throw new HubException($"A connection may watch at most {max} users; unwatch some before watching more.");
        foreach (var id in added) await Groups.AddToGroupAsync(Context.ConnectionId, WatchGroup(id));
    }

    /// <summary>Ends the subscriptions of <see cref="Watch"/>; ids not watched are ignored.</summary>
    public async Task Unwatch(string[] userIds)
    {
        var ids = Validate(userIds);
        foreach (var id in watches.Remove(Context.ConnectionId, ids))
            await Groups.RemoveFromGroupAsync(Context.ConnectionId, WatchGroup(id));
    }

    private string[] Validate(string[]? userIds)
    {
        if (userIds is null) throw new HubException("Send an array of user ids.");
        var max = options.Value.MaxWatchedUsers;
        if (userIds.Length > max) throw new HubException($"A connection may watch at most {max} users; send fewer ids.");
        foreach (var id in userIds)
            if (!UserIds.IsValid(id))
                throw new HubException("Every user id must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.");
        return userIds.Distinct(StringComparer.Ordinal).ToArray();
    }
}

/// <summary>Which users each connection of this instance watches, so that the per-connection cap holds.</summary>
public sealed class WatchRegistry
{
    private readonly ConcurrentDictionary<string, HashSet<string>> _byConnection = new();

    /// <summary>The ids newly watched, or null (and nothing added) when the total would exceed <paramref name="max"/>.</summary>
    public IReadOnlyList<string>? Add(string connectionId, IReadOnlyCollection<string> userIds, int max)
    {
        var set = _byConnection.GetOrAdd(connectionId, _ => new HashSet<string>(StringComparer.Ordinal));
        lock (set)
        {
            var fresh = userIds.Where(id => !set.Contains(id)).ToList();
            if (set.Count + fresh.Count > max) return null;
            foreach (var id in fresh) set.Add(id);
            return fresh;
        }
    }

    /// <summary>The ids that were watched and are no longer.</summary>
    public IReadOnlyList<string> Remove(string connectionId, IEnumerable<string> userIds)
    {
        if (!_byConnection.TryGetValue(connectionId, out var set)) return [];
        lock (set) return userIds.Where(set.Remove).ToList();
    }

    public int Count(string connectionId)
    {
        if (!_byConnection.TryGetValue(connectionId, out var set)) return 0;
        lock (set) return set.Count;
    }

    public int Connections => _byConnection.Count;

    public void Forget(string connectionId) => _byConnection.TryRemove(connectionId, out _);
}

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
/// A user may hold at most Realtime:MaxConnectionsPerUser connections (<see cref="HubConnectionLimits"/>)
/// and Realtime:MaxWatchedUsers watches over all of them.
/// </summary>
[Authorize]
public sealed class PicturesHub(WatchRegistry watches, HubConnectionLimits limits, IOptions<RealtimeOptions> options) : Hub<IPicturesClient>
{
    private const string LimitKey = "limit-key";

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
        // The exact count (negotiate only looked): a refused connection is closed with this error and never counted.
        var (key, max) = limits.CallerOf(Context.User)!.Value;
        if (!limits.TryOpen(key, max))
            throw new HubException($"This user already holds {max} hub connections, the most allowed at once; close one before opening another.");
        Context.Items[LimitKey] = key;
        await Groups.AddToGroupAsync(Context.ConnectionId, UserGroup(sub));
        await base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        watches.Forget(Context.ConnectionId);
        if (Context.Items.TryGetValue(LimitKey, out var key)) limits.Close((string)key!);
        return base.OnDisconnectedAsync(exception);
    }

    /// <summary>Subscribes to the avatar changes of these users (at most Realtime:MaxWatchedUsers in total over all of the user's connections).</summary>
    public async Task Watch(string[] userIds)
    {
        var ids = Validate(userIds);
        var self = Context.User?.UserId();
        // The own group already carries every event of the caller; watching oneself would deliver twice.
        ids = ids.Where(id => id != self).ToArray();
        var max = options.Value.MaxWatchedUsers;
        var added = watches.Add(self!, Context.ConnectionId, ids, max)
            ?? throw new HubException($"A user may watch at most {max} users in total over all of its connections; unwatch some before watching more.");
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
        if (userIds.Length > max) throw new HubException($"A user may watch at most {max} users; send fewer ids.");
        foreach (var id in userIds)
            if (!UserIds.IsValid(id))
                throw new HubException("Every user id must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.");
        return userIds.Distinct(StringComparer.Ordinal).ToArray();
    }
}

/// <summary>
/// Which users each connection of this instance watches, and how many watches each user holds over
/// all of its connections, so that the per-user cap holds. Entries go with their connection.
/// </summary>
public sealed class WatchRegistry
{
    private readonly object _gate = new();
    private readonly Dictionary<string, (string Owner, HashSet<string> Ids)> _byConnection = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _perOwner = new(StringComparer.Ordinal);

    /// <summary>The ids newly watched, or null (and nothing added) when the owner's total would exceed <paramref name="max"/>.</summary>
    public IReadOnlyList<string>? Add(string owner, string connectionId, IReadOnlyCollection<string> userIds, int max)
    {
        lock (_gate)
        {
            if (!_byConnection.TryGetValue(connectionId, out var entry))
                entry = (owner, new HashSet<string>(StringComparer.Ordinal));
            var fresh = userIds.Where(id => !entry.Ids.Contains(id)).ToList();
            var total = _perOwner.GetValueOrDefault(owner);
            if (total + fresh.Count > max) return null;
            if (fresh.Count == 0) return fresh;
            foreach (var id in fresh) entry.Ids.Add(id);
            _byConnection[connectionId] = entry;
            _perOwner[owner] = total + fresh.Count;
            return fresh;
        }
    }

    /// <summary>The ids that were watched and are no longer.</summary>
    public IReadOnlyList<string> Remove(string connectionId, IEnumerable<string> userIds)
    {
        lock (_gate)
        {
            if (!_byConnection.TryGetValue(connectionId, out var entry)) return [];
            var removed = userIds.Where(entry.Ids.Remove).ToList();
            Release(entry.Owner, removed.Count);
            return removed;
        }
    }

    public int Count(string connectionId)
    {
        lock (_gate) return _byConnection.TryGetValue(connectionId, out var entry) ? entry.Ids.Count : 0;
    }

    /// <summary>Watches held by one user over all of its connections on this instance.</summary>
    public int CountForUser(string owner)
    {
        lock (_gate) return _perOwner.GetValueOrDefault(owner);
    }

    public int Connections
    {
        get { lock (_gate) return _byConnection.Count; }
    }

    public void Forget(string connectionId)
    {
        lock (_gate)
        {
            if (_byConnection.Remove(connectionId, out var entry)) Release(entry.Owner, entry.Ids.Count);
        }
    }

    private void Release(string owner, int count)
    {
        var left = _perOwner.GetValueOrDefault(owner) - count;
        if (left > 0) _perOwner[owner] = left;
        else _perOwner.Remove(owner);
    }
}

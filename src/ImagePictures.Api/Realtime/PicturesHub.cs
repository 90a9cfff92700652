using ImagePictures.Api.Auth;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;

namespace ImagePictures.Api.Realtime;

/// <summary>
/// /hubs/pictures. A connection with a token joins its own user's group and hears every event of its
/// own; <see cref="Watch"/> adds other users, of whom it hears only avatar changes and account
/// deletion. A user may hold at most Realtime:MaxConnectionsPerUser connections
/// (<see cref="HubConnectionLimits"/>) and Realtime:MaxWatchedUsers watches over all of them.
/// A connection without a token (admitted by <see cref="RealtimeSetup.HubPolicy"/> when
/// Realtime:AnonymousWatch is on) joins no owner group: it only watches, with a watch budget of its
/// own and counts against its address's cap. Watchers hear the public shape of another user's picture
/// unless they are admins.
/// </summary>
public sealed class PicturesHub(WatchRegistry watches, HubConnectionLimits limits, IOptions<RealtimeOptions> options, Operations.PicturesMetrics metrics) : Hub<IPicturesClient>
{
    private const string LimitKey = "limit-key";

    public static string UserGroup(string userId) => "user:" + userId;
    /// <summary>Admins watching a user: they get the full picture.</summary>
    public static string WatchGroup(string userId) => "watch:" + userId;
    /// <summary>Every other watcher of a user (anonymous or signed in): they get <see cref="PublicPictureEvent"/>s.</summary>
    public static string PublicWatchGroup(string userId) => "watch-public:" + userId;
    /// <summary>Watchers of an e-mail hash (lower case): they get <see cref="HashAvatarEvent"/>s, which never name the user.</summary>
    public static string HashWatchGroup(string hash) => "watch-hash:" + hash;

    private bool IsAnonymous => Context.User?.Identity?.IsAuthenticated != true;

    public override async Task OnConnectedAsync()
    {
        if (limits.CallerOf(Context.User, Context.GetHttpContext()) is not var (key, max))
        {
            Context.Abort(); // a token without sub has no user to hear about
            return;
        }
        // The exact count (negotiate only looked): a refused connection is closed with this error and never counted.
        if (!limits.TryOpen(key, max)) throw new HubException(HubConnectionLimits.RefusalDetail(key, max));
        Context.Items[LimitKey] = key;
        if (!IsAnonymous) await Groups.AddToGroupAsync(Context.ConnectionId, UserGroup(Context.User!.UserId()!));
        metrics.HubConnected(Context.Items, IsAnonymous ? "anonymous" : "user");
        await base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        watches.Forget(Context.ConnectionId);
        metrics.HubDisconnected(Context.Items);
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
        // A user's budget spans its connections; an anonymous connection has one of its own.
        var owner = IsAnonymous ? "connection:" + Context.ConnectionId : self!;
        var added = watches.Add(owner, Context.ConnectionId, ids, max)
            ?? throw new HubException(IsAnonymous
                ? $"A connection may watch at most {max} users; unwatch some before watching more."
                : $"A user may watch at most {max} users in total over all of its connections; unwatch some before watching more.");
        foreach (var id in added) await Groups.AddToGroupAsync(Context.ConnectionId, GroupOf(id));
    }

    /// <summary>Ends the subscriptions of <see cref="Watch"/>; ids not watched are ignored.</summary>
    public async Task Unwatch(string[] userIds)
    {
        var ids = Validate(userIds);
        foreach (var id in watches.Remove(Context.ConnectionId, ids))
            await Groups.RemoveFromGroupAsync(Context.ConnectionId, GroupOf(id));
    }

    /// <summary>
    /// Subscribes to the avatar behind these e-mail hashes (32 or 64 hex digits, any case), as /avatar/{hash} shows it.
    /// A separate method because a user id may also be 32 hex digits. The events carry the hash as userId and never
    /// the user id, so watching a hash reveals no more than /avatar/{hash} does. Hashes count in the same watch budget.
    /// </summary>
    public async Task WatchHashes(string[] hashes)
    {
        var keys = ValidateHashes(hashes);
        var max = options.Value.MaxWatchedUsers;
        var owner = IsAnonymous ? "connection:" + Context.ConnectionId : Context.User!.UserId()!;
        var added = watches.Add(owner, Context.ConnectionId, keys, max)
            ?? throw new HubException($"At most {max} users and e-mail hashes may be watched; unwatch some before watching more.");
        foreach (var key in added) await Groups.AddToGroupAsync(Context.ConnectionId, HashWatchGroup(key[HashKey.Length..]));
    }

    /// <summary>Ends the subscriptions of <see cref="WatchHashes"/>; hashes not watched are ignored.</summary>
    public async Task UnwatchHashes(string[] hashes)
    {
        foreach (var key in watches.Remove(Context.ConnectionId, ValidateHashes(hashes)))
            await Groups.RemoveFromGroupAsync(Context.ConnectionId, HashWatchGroup(key[HashKey.Length..]));
    }

    // Registry keys of hash watches: a user id cannot contain ':', so they never meet a watched user id.
    private const string HashKey = "hash:";

    private string[] ValidateHashes(string[]? hashes)
    {
        if (hashes is null) throw new HubException("Send an array of e-mail hashes.");
        var max = options.Value.MaxWatchedUsers;
        if (hashes.Length > max) throw new HubException($"At most {max} e-mail hashes may be watched; send fewer.");
        foreach (var h in hashes)
            if (h is null || (h.Length != 32 && h.Length != 64) || !h.All(char.IsAsciiHexDigit))
                throw new HubException("Every e-mail hash must be the MD5 (32 hex digits) or SHA-256 (64 hex digits) of the trimmed, lower-cased address.");
        return hashes.Select(h => HashKey + h.ToLowerInvariant()).Distinct(StringComparer.Ordinal).ToArray();
    }

    // Only admins may read another user's pictures in full (the owner hears its own group, never a watch group).
    private string GroupOf(string watchedUserId) => Context.User?.IsAdmin() == true ? WatchGroup(watchedUserId) : PublicWatchGroup(watchedUserId);

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

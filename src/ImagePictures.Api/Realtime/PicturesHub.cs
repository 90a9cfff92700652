using System.Collections.Concurrent;
using ImagePictures.Api.Auth;
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
/// /hubs/pictures. A connection with a token joins its own user's group and hears every event of its
/// own; <see cref="Watch"/> adds other users, of whom it hears only avatar changes and account
/// deletion. A connection without a token (admitted by <see cref="RealtimeSetup.HubPolicy"/> when
/// Realtime:AnonymousWatch is on) joins no owner group: it only watches, and hears the public shape.
/// </summary>
public sealed class PicturesHub(WatchRegistry watches, HubAdmission admission, IOptions<RealtimeOptions> options) : Hub<IPicturesClient>
{
    private const string AnonymousAddress = "anonymous-address";

    public static string UserGroup(string userId) => "user:" + userId;
    public static string WatchGroup(string userId) => "watch:" + userId;
    /// <summary>Anonymous watchers of a user: they get <see cref="PublicPictureEvent"/>s.</summary>
    public static string PublicWatchGroup(string userId) => "watch-public:" + userId;

    private bool IsAnonymous => Context.User?.Identity?.IsAuthenticated != true;

    public override async Task OnConnectedAsync()
    {
        if (IsAnonymous)
        {
            // The admission middleware refuses negotiate and connect beyond the cap with 429; this is the
            // last word when two connections of one address race past it.
            var address = HubAdmission.AddressOf(Context.GetHttpContext());
            if (!admission.TryAdmitAnonymous(address))
            {
                Context.Abort();
                return;
            }
            Context.Items[AnonymousAddress] = address;
            await base.OnConnectedAsync();
            return;
        }
        var sub = Context.User?.UserId();
        if (string.IsNullOrEmpty(sub))
        {
            Context.Abort(); // a token without sub has no user to hear about
            return;
        }
        await Groups.AddToGroupAsync(Context.ConnectionId, UserGroup(sub));
        await base.OnConnectedAsync();
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        watches.Forget(Context.ConnectionId);
        if (Context.Items.TryGetValue(AnonymousAddress, out var address)) admission.ReleaseAnonymous((string)address!);
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
        foreach (var id in added) await Groups.AddToGroupAsync(Context.ConnectionId, GroupOf(id));
    }

    /// <summary>Ends the subscriptions of <see cref="Watch"/>; ids not watched are ignored.</summary>
    public async Task Unwatch(string[] userIds)
    {
        var ids = Validate(userIds);
        foreach (var id in watches.Remove(Context.ConnectionId, ids))
            await Groups.RemoveFromGroupAsync(Context.ConnectionId, GroupOf(id));
    }

    private string GroupOf(string watchedUserId) => IsAnonymous ? PublicWatchGroup(watchedUserId) : WatchGroup(watchedUserId);

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

/// <summary>What an anonymous watcher hears: the event with the picture reduced to its public fields.</summary>
public sealed record PublicPictureEvent(long Seq, string Type, string UserId, Guid? PictureId, DateTime OccurredAt, PublicPicture? Picture)
{
    public static PublicPictureEvent From(PictureEvent e) => new(e.Seq, e.Type, e.UserId, e.PictureId, e.OccurredAt,
        e.Picture is { } p ? new PublicPicture(p.Id, p.UserId, p.ContentHash, p.Urls) : null);
}

/// <summary>The fields of a picture anyone may know: the avatar itself is public.</summary>
public sealed record PublicPicture(Guid Id, string UserId, string ContentHash, IReadOnlyDictionary<string, string> Urls);

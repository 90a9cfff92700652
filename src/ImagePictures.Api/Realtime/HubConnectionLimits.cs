using System.Collections.Concurrent;
using System.Security.Claims;
using ImagePictures.Api.Auth;
using Microsoft.Extensions.Options;

namespace ImagePictures.Api.Realtime;

/// <summary>
/// Admission to the hub, in one place: how many connections one caller may hold at once
/// (Realtime:MaxConnectionsPerUser for a user, Realtime:MaxAnonymousConnectionsPerAddress for the
/// anonymous connections of one client address). A caller is a key ("user:alice",
/// "address:203.0.113.7"). Two checks use it:
/// <see cref="Admit"/> on negotiate and on the WebSocket request answers 429 before any connection
/// exists; <see cref="TryOpen"/> in OnConnectedAsync is the exact count, which racing connects
/// cannot pass.
/// </summary>
public sealed class HubConnectionLimits(IOptions<RealtimeOptions> options)
{
    private readonly ConcurrentDictionary<string, int> _open = new(StringComparer.Ordinal);

    private const string AddressPrefix = "address:";

    /// <summary>
    /// The caller's key and cap: a user by its sub, an anonymous caller (no token, admitted by
    /// <see cref="RealtimeSetup.HubPolicy"/>) by its address; null for a token without sub (refused elsewhere).
    /// </summary>
    public (string Key, int Max)? CallerOf(ClaimsPrincipal? user, HttpContext? http)
    {
        if (user?.Identity?.IsAuthenticated != true)
            return (AddressPrefix + (http?.Connection.RemoteIpAddress?.ToString() ?? "unknown"), options.Value.MaxAnonymousConnectionsPerAddress);
        return user.UserId() is { Length: > 0 } sub ? ("user:" + sub, options.Value.MaxConnectionsPerUser) : null;
    }

    /// <summary>A request that brings no credentials is anonymous; a bad token is a 401, never anonymous.</summary>
    public static bool BringsNoToken(HttpRequest request) =>
        !request.Headers.ContainsKey("Authorization") && !request.Query.ContainsKey("access_token");

    /// <summary>What a refused caller is told.</summary>
    public static string RefusalDetail(string key, int max) => key.StartsWith(AddressPrefix, StringComparison.Ordinal)
        ? $"This address already holds {max} anonymous hub connections, the most allowed at once: share one connection between the avatars of a page, or close some."
        : $"This user already holds {max} hub connections, the most allowed at once; close one (or reuse it) before opening another.";

    public int OpenCount(string key) => _open.TryGetValue(key, out var n) ? n : 0;

    /// <summary>Takes one of the caller's places; false (nothing taken) when all are in use.</summary>
    public bool TryOpen(string key, int max)
    {
        while (true)
        {
            var current = OpenCount(key);
            if (current >= max) return false;
            if (current == 0 ? _open.TryAdd(key, 1) : _open.TryUpdate(key, current + 1, current)) return true;
        }
    }

    /// <summary>Gives a place back; the key goes when its last connection closes, so nothing stays per caller.</summary>
    public void Close(string key)
    {
        while (_open.TryGetValue(key, out var current))
        {
            if (current <= 1 ? ((ICollection<KeyValuePair<string, int>>)_open).Remove(new(key, current)) : _open.TryUpdate(key, current - 1, current))
                return;
        }
    }

    /// <summary>
    /// Wraps the hub's endpoints (negotiate and connect), after authentication: a caller whose places
    /// are all taken gets 429 with a detail, before a connection is made.
    /// </summary>
    public static void Admit(EndpointBuilder endpoint)
    {
        var inner = endpoint.RequestDelegate!;
        endpoint.RequestDelegate = http =>
        {
            var limits = http.RequestServices.GetRequiredService<HubConnectionLimits>();
            var opening = http.Request.Path.Value?.EndsWith("/negotiate", StringComparison.Ordinal) == true || http.WebSockets.IsWebSocketRequest;
            if (opening && limits.CallerOf(http.User, http) is var (key, max) && limits.OpenCount(key) >= max)
                return Problems.Write(http, StatusCodes.Status429TooManyRequests, "Too many connections", RefusalDetail(key, max), 10);
            return inner(http);
        };
    }
}

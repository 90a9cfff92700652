using System.Collections.Concurrent;
using ImagePictures.Api.Operations;
using Microsoft.Extensions.Options;

namespace ImagePictures.Api.Realtime;

/// <summary>
/// Who may open a hub connection beyond the token check: at most
/// Realtime:MaxAnonymousConnectionsPerAddress anonymous connections per client address.
/// The count is of connections the hub has accepted (OnConnected to OnDisconnected), on this instance.
/// </summary>
public sealed class HubAdmission(IOptions<RealtimeOptions> options)
{
    private readonly ConcurrentDictionary<string, int> _anonymousByAddress = new();

    public static string AddressOf(HttpContext? http) => http?.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    /// <summary>A request that brings no credentials: it is anonymous (a bad token is a 401, not anonymous).</summary>
    public static bool BringsNoToken(HttpRequest request) =>
        !request.Headers.ContainsKey("Authorization") && !request.Query.ContainsKey("access_token");

    public bool AnonymousFull(string address) =>
        _anonymousByAddress.TryGetValue(address, out var n) && n >= options.Value.MaxAnonymousConnectionsPerAddress;

    public bool TryAdmitAnonymous(string address)
    {
        var max = options.Value.MaxAnonymousConnectionsPerAddress;
        while (true)
        {
            var n = _anonymousByAddress.GetOrAdd(address, 0);
            if (n >= max) return false;
            if (_anonymousByAddress.TryUpdate(address, n + 1, n)) return true;
        }
    }

    public void ReleaseAnonymous(string address)
    {
        while (_anonymousByAddress.TryGetValue(address, out var n))
        {
            if (n <= 1 ? _anonymousByAddress.TryRemove(new KeyValuePair<string, int>(address, n)) : _anonymousByAddress.TryUpdate(address, n - 1, n))
                return;
        }
    }

    /// <summary>
    /// Refuses, with 429, a negotiate or a WebSocket/SSE connect of an anonymous caller whose address
    /// is at its cap. (A long-polling connect is refused by the hub itself, which closes it.)
    /// </summary>
    public async Task<bool> RefuseAsync(HttpContext http)
    {
        var request = http.Request;
        var isNegotiate = request.Path.Value?.EndsWith("/negotiate", StringComparison.Ordinal) == true;
        var isStreamConnect = HttpMethods.IsGet(request.Method)
            && (http.WebSockets.IsWebSocketRequest || request.Headers.Accept.ToString().Contains("text/event-stream"));
        if (!(isNegotiate || isStreamConnect) || !BringsNoToken(request) || !AnonymousFull(AddressOf(http))) return false;
        await Problems.Write(http, StatusCodes.Status429TooManyRequests, "Too many connections",
            $"This address already holds {options.Value.MaxAnonymousConnectionsPerAddress} anonymous hub connections: share one connection between the avatars of a page, or close some.",
            retryAfterSeconds: 10);
        return true;
    }
}

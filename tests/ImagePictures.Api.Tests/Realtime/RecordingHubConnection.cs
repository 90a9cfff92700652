using System.Collections.Concurrent;
using System.Text.Json;
using System.Threading.Channels;
using ImagePictures.Api.Realtime;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.AspNetCore.TestHost;

namespace ImagePictures.Api.Tests.Realtime;

/// <summary>One event the hub sent: its target (the event type) and its arguments as JSON.</summary>
public sealed record HubMessage(string Target, JsonElement[] Arguments)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public T Arg<T>(int index = 0) => Arguments[index].Deserialize<T>(Json)!;
}

/// <summary>
/// The official SignalR client on the in-memory test server (negotiate through its handler, the WebSocket through its
/// WebSocket client), recording every event type of the contract in arrival order, and per type for <see cref="NextAsync"/>.
/// The token rides in the access_token query of negotiate and of the WebSocket, as a browser sends it, so the tests
/// also cover the query being kept out of the logs.
/// </summary>
public sealed class RecordingHubConnection : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Channel<HubMessage>> _byType = new();
    private readonly List<HubMessage> _received = [];
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private TaskCompletionSource _nextArrival = new(TaskCreationOptions.RunContinuationsAsynchronously); // completes on the next Record
    private int _sinceMarker; // index in _received just after the last marker

    private RecordingHubConnection(HubConnection connection)
    {
        Connection = connection;
        foreach (var name in EventTypes.All)
            connection.On(name, [typeof(JsonElement)], args =>
            {
                Record(new HubMessage(name, [(JsonElement)args[0]!]));
                return Task.CompletedTask;
            });
        connection.Closed += _ =>
        {
            _closed.TrySetResult();
            return Task.CompletedTask;
        };
    }

    public HubConnection Connection { get; }

    /// <summary>The server's id of this connection (from negotiate); kept after the connection ends.</summary>
    public string ConnectionId { get; private set; } = "";

    /// <summary>Completes when the connection ends, whichever side ends it.</summary>
    public Task Closed => _closed.Task;

    /// <summary>Every event received so far, in arrival order.</summary>
    public IReadOnlyList<HubMessage> Received
    {
        get { lock (_received) return [.. _received]; }
    }

    /// <summary>Connects; a refused negotiate throws <see cref="HttpRequestException"/> with its status code.</summary>
    public static async Task<RecordingHubConnection> ConnectAsync(TestServer server, string hubPath, string? accessToken)
    {
        var url = new Uri(server.BaseAddress, accessToken is null ? hubPath : $"{hubPath}?access_token={Uri.EscapeDataString(accessToken)}");
        var connection = new HubConnectionBuilder()
            .WithUrl(url, HttpTransportType.WebSockets, o =>
            {
                o.HttpMessageHandlerFactory = _ => server.CreateHandler();
                o.WebSocketFactory = async (context, ct) => await server.CreateWebSocketClient().ConnectAsync(context.Uri, ct);
            })
            .Build();
        return await StartAsync(connection);
    }

    /// <summary>Connects over real sockets to a service listening at <paramref name="baseUrl"/> (Kestrel).</summary>
    public static Task<RecordingHubConnection> ConnectAsync(Uri baseUrl, string hubPath, string? accessToken)
    {
        var url = new Uri(baseUrl, accessToken is null ? hubPath : $"{hubPath}?access_token={Uri.EscapeDataString(accessToken)}");
        return StartAsync(new HubConnectionBuilder().WithUrl(url, HttpTransportType.WebSockets).Build());
    }

    private static async Task<RecordingHubConnection> StartAsync(HubConnection connection)
    {
        var recording = new RecordingHubConnection(connection);
        try
        {
            await connection.StartAsync();
            recording.ConnectionId = connection.ConnectionId!;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        return recording;
    }

    /// <summary>Calls a hub method; an error answer throws <see cref="Microsoft.AspNetCore.SignalR.HubException"/>.</summary>
    public Task InvokeAsync(string method, params object?[] args) => Connection.InvokeCoreAsync(method, args);

    /// <summary>The next event of <paramref name="type"/> not taken yet; <see cref="TimeoutException"/> if none comes in time.</summary>
    public async Task<HubMessage> NextAsync(string type, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            return await ChannelFor(type).Reader.ReadAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No {type} within {within}.");
        }
    }

    /// <summary>
    /// Waits for the first event since the previous marker (or since connecting) that <paramref name="isMarker"/> accepts,
    /// and returns the events received before it since then. The marker stays in <see cref="Received"/> and in
    /// <see cref="NextAsync"/>'s queue. See <see cref="RealtimeKit.ReceivedBeforeMarkerAsync"/> for why this proves absence.
    /// </summary>
    public async Task<HubMessage[]> ReceivedBeforeAsync(Func<HubMessage, bool> isMarker, TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        while (true)
        {
            Task next;
            lock (_received)
            {
                var at = _received.FindIndex(_sinceMarker, m => isMarker(m));
                if (at >= 0)
                {
                    var before = _received.GetRange(_sinceMarker, at - _sinceMarker).ToArray();
                    _sinceMarker = at + 1;
                    return before;
                }
                next = _nextArrival.Task;
            }
            try { await next.WaitAsync(timeout.Token); }
            catch (OperationCanceledException) { throw new TimeoutException($"No marker event within {within}."); }
        }
    }

    public ValueTask DisposeAsync() => Connection.DisposeAsync();

    private void Record(HubMessage message)
    {
        TaskCompletionSource arrived;
        lock (_received)
        {
            _received.Add(message);
            arrived = _nextArrival;
            _nextArrival = new(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        ChannelFor(message.Target).Writer.TryWrite(message);
        arrived.TrySetResult();
    }

    private Channel<HubMessage> ChannelFor(string type) => _byType.GetOrAdd(type, _ => Channel.CreateUnbounded<HubMessage>());
}

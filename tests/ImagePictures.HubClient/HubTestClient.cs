using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.TestHost;

namespace ImagePictures.HubClient;

/// <summary>
/// Minimal SignalR client for tests: JSON hub protocol v1 over a WebSocket (real <see cref="ClientWebSocket"/>
/// or the in-memory TestServer socket). Server invocations are buffered per target in arrival order.
/// </summary>
public sealed class HubTestClient : IAsyncDisposable
{
    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private const int TypeInvocation = 1;
    private const int TypeStreamItem = 2;
    private const int TypeCompletion = 3;
    private const int TypePing = 6;
    private const int TypeClose = 7;

    private static readonly byte[] PingRecord = Encoding.UTF8.GetBytes("{\"type\":6}\u001e");

    private readonly WebSocket _socket;
    private readonly RecordReader _reader;
    private readonly SemaphoreSlim _sendLock = new(1, 1);
    private readonly CancellationTokenSource _cts = new();
    private readonly ConcurrentDictionary<string, Channel<HubMessage>> _byTarget = new(StringComparer.OrdinalIgnoreCase);
    private readonly ConcurrentDictionary<string, TaskCompletionSource<JsonElement?>> _pending = new();
    private readonly List<HubMessage> _received = new();
    private readonly TaskCompletionSource _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _gate = new();
    private TaskCompletionSource _anyArrival = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task? _receiveLoop;
    private Task? _pingLoop;
    private long _nextInvocationId;
    private int _disposed;
    private long _pingsReceived;

    private HubTestClient(WebSocket socket, string connectionId)
    {
        _socket = socket;
        _reader = new RecordReader(socket);
        ConnectionId = connectionId;
    }

    /// <summary>Server-side connection id from negotiate (the token is used in the URL; this is the public id).</summary>
    public string ConnectionId { get; }

    /// <summary>Timeout for <see cref="InvokeAsync"/> awaiting its Completion. Default 30 s.</summary>
    public TimeSpan InvokeTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Interval of client keep-alive pings (the server drops clients silent for 30 s by default).
    /// Read when a connection starts; zero or negative disables pings (to test server timeouts).</summary>
    public static TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Number of Ping messages (type 6) the server sent so far.</summary>
    public long PingsReceived => Interlocked.Read(ref _pingsReceived);

    /// <summary>Raised on the receive loop for every server invocation (after it is buffered). Keep handlers fast.</summary>
    public event Action<HubMessage>? OnMessage;

    /// <summary>Completes when the connection ends: a Close message, the socket closing, a receive error, or DisposeAsync.</summary>
    public Task Closed => _closed.Task;

    /// <summary>The Close message's "error", or the receive error's message; null for a clean close.</summary>
    public string? CloseError { get; private set; }

    /// <summary>Snapshot of every invocation received so far, in arrival order.</summary>
    public IReadOnlyList<HubMessage> Received
    {
        get { lock (_gate) return _received.ToArray(); }
    }

    // ---------------------------------------------------------------- connect

    /// <summary>
    /// Connects through a real socket. <paramref name="baseUri"/> like http://127.0.0.1:5080; <paramref name="hubPath"/> like /hubs/pictures.
    /// The token goes as "Authorization: Bearer" on negotiate and as access_token query on the WebSocket (as the JS client does).
    /// </summary>
    public static async Task<HubTestClient> ConnectAsync(Uri baseUri, string hubPath, string? accessToken,
        CancellationToken ct = default, string? origin = null)
    {
        var hubUri = Combine(baseUri, hubPath);
        string token, connectionId;
        using (var http = new HttpClient())
        {
            using var req = new HttpRequestMessage(HttpMethod.Post, AppendQuery(hubUri + "/negotiate", "negotiateVersion", "1"));
            if (accessToken is not null)
                req.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
            if (origin is not null)
                req.Headers.TryAddWithoutValidation("Origin", origin);
            using var resp = await http.SendAsync(req, ct).ConfigureAwait(false);
            (token, connectionId) = await ReadNegotiateAsync(resp, ct).ConfigureAwait(false);
        }

        var wsUri = ToWebSocketUri(hubUri, token, accessToken);
        var ws = new ClientWebSocket();
        ws.Options.CollectHttpResponseDetails = true;
        ws.Options.KeepAliveInterval = TimeSpan.Zero; // hub-level pings instead
        if (origin is not null)
            ws.Options.SetRequestHeader("Origin", origin);
        try
        {
            await ws.ConnectAsync(wsUri, ct).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is WebSocketException or HttpRequestException)
        {
            var status = ws.HttpStatusCode == 0 ? (int?)null : (int)ws.HttpStatusCode;
            ws.Dispose();
            throw new HubConnectException($"WebSocket connect to {wsUri} failed: {ex.Message}", status, ex);
        }
        return await StartAsync(ws, connectionId, ct).ConfigureAwait(false);
    }

    /// <summary>
    /// Connects through the in-memory TestServer (WebApplicationFactory.Server): negotiate via server.CreateClient(),
    /// the socket via server.CreateWebSocketClient(). The token goes as access_token query on both.
    /// </summary>
    public static async Task<HubTestClient> ConnectAsync(TestServer server, string hubPath, string? accessToken,
        CancellationToken ct = default)
    {
        var hubUri = Combine(server.BaseAddress, hubPath);
        string token, connectionId;
        using (var http = server.CreateClient())
        {
            var url = AppendQuery(hubUri + "/negotiate", "negotiateVersion", "1");
            if (accessToken is not null)
                url = AppendQuery(url, "access_token", accessToken);
            using var resp = await http.PostAsync(url, content: null, ct).ConfigureAwait(false);
            (token, connectionId) = await ReadNegotiateAsync(resp, ct).ConfigureAwait(false);
        }

        var wsUri = ToWebSocketUri(hubUri, token, accessToken);
        var wsClient = server.CreateWebSocketClient();
        WebSocket ws;
        try
        {
            ws = await wsClient.ConnectAsync(wsUri, ct).ConfigureAwait(false);
        }
        catch (InvalidOperationException ex)
        {
            // TestHost reports a refused upgrade as "Incomplete handshake, status code: NNN".
            int? status = null;
            var digits = new string(ex.Message.Reverse().TakeWhile(char.IsDigit).Reverse().ToArray());
            if (int.TryParse(digits, out var s)) status = s;
            throw new HubConnectException($"WebSocket connect to {wsUri} failed: {ex.Message}", status, ex);
        }
        return await StartAsync(ws, connectionId, ct).ConfigureAwait(false);
    }

    private static async Task<HubTestClient> StartAsync(WebSocket ws, string connectionId, CancellationToken ct)
    {
        var client = new HubTestClient(ws, connectionId);
        try
        {
            await client.SendRawAsync(Encoding.UTF8.GetBytes("{\"protocol\":\"json\",\"version\":1}\u001e"), ct).ConfigureAwait(false);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(15));
            var record = await client._reader.ReadAsync(timeout.Token).ConfigureAwait(false)
                ?? throw new HubConnectException("Server closed the socket during the handshake.");
            using var doc = JsonDocument.Parse(record);
            if (doc.RootElement.TryGetProperty("error", out var err))
                throw new HubConnectException("Handshake refused: " + err.GetString());
        }
        catch (Exception ex) when (ex is not HubConnectException)
        {
            ws.Abort();
            ws.Dispose();
            throw new HubConnectException("Handshake failed: " + ex.Message, null, ex);
        }
        catch
        {
            ws.Abort();
            ws.Dispose();
            throw;
        }

        client._receiveLoop = Task.Run(client.ReceiveLoopAsync);
        var keepAlive = KeepAliveInterval;
        client._pingLoop = keepAlive > TimeSpan.Zero ? Task.Run(() => client.PingLoopAsync(keepAlive)) : Task.CompletedTask;
        return client;
    }

    private static async Task<(string Token, string ConnectionId)> ReadNegotiateAsync(HttpResponseMessage resp, CancellationToken ct)
    {
        var body = await resp.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
        if (!resp.IsSuccessStatusCode)
            throw new HubConnectException($"Negotiate failed: {(int)resp.StatusCode} {resp.ReasonPhrase} {body}".TrimEnd(),
                (int)resp.StatusCode);
        using var doc = JsonDocument.Parse(body);
        var root = doc.RootElement;
        if (root.TryGetProperty("error", out var err))
            throw new HubConnectException("Negotiate error: " + err.GetString(), (int)resp.StatusCode);
        var id = root.TryGetProperty("connectionId", out var cid) ? cid.GetString() ?? "" : "";
        // negotiateVersion 1 gives a separate connectionToken; version 0 servers only give connectionId.
        var token = root.TryGetProperty("connectionToken", out var tok) ? tok.GetString() : id;
        if (string.IsNullOrEmpty(token))
            throw new HubConnectException("Negotiate response has no connectionToken: " + body, (int)resp.StatusCode);
        return (token, id);
    }

    private static string Combine(Uri baseUri, string hubPath)
        => baseUri.GetLeftPart(UriPartial.Authority) + baseUri.AbsolutePath.TrimEnd('/') + "/" + hubPath.TrimStart('/');

    private static string AppendQuery(string url, string name, string value)
        => url + (url.Contains('?') ? "&" : "?") + name + "=" + Uri.EscapeDataString(value);

    private static Uri ToWebSocketUri(string hubUri, string connectionToken, string? accessToken)
    {
        var url = AppendQuery(hubUri, "id", connectionToken);
        if (accessToken is not null)
            url = AppendQuery(url, "access_token", accessToken);
        var b = new UriBuilder(url);
        b.Scheme = b.Scheme == "https" ? "wss" : "ws";
        b.Port = new Uri(url).Port; // UriBuilder keeps the explicit port; keep default ports default
        return b.Uri;
    }

    // ---------------------------------------------------------------- invoke / send

    /// <summary>Invokes a hub method and awaits its Completion: the "result" (cloned), or null for void methods
    /// (the server sends "result":null for Task/void methods; a JSON null result also maps to null).</summary>
    /// <exception cref="HubInvocationException">The Completion carried "error".</exception>
    /// <exception cref="TimeoutException">No Completion within <see cref="InvokeTimeout"/>.</exception>
    public async Task<JsonElement?> InvokeAsync(string method, params object?[] args)
    {
        var id = Interlocked.Increment(ref _nextInvocationId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        var tcs = new TaskCompletionSource<JsonElement?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pending[id] = tcs;
        try
        {
            if (_closed.Task.IsCompleted)
                throw new InvalidOperationException("Connection is closed: " + (CloseError ?? "clean close"));
            await SendRecordAsync(new { type = TypeInvocation, invocationId = id, target = method, arguments = args ?? [] })
                .ConfigureAwait(false);
            try
            {
                return await tcs.Task.WaitAsync(InvokeTimeout).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                throw new TimeoutException($"No completion for '{method}' (invocation {id}) within {InvokeTimeout}.");
            }
        }
        finally
        {
            _pending.TryRemove(id, out _);
        }
    }

    /// <summary>Fire-and-forget invocation (no invocationId, no Completion).</summary>
    public Task SendAsync(string method, params object?[] args)
        => SendRecordAsync(new { type = TypeInvocation, target = method, arguments = args ?? [] });

    private Task SendRecordAsync(object message)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(message, JsonOptions);
        var bytes = new byte[json.Length + 1];
        json.CopyTo(bytes, 0);
        bytes[^1] = RecordReader.Separator;
        return SendRawAsync(bytes, _cts.Token);
    }

    private async Task SendRawAsync(byte[] bytes, CancellationToken ct)
    {
        await _sendLock.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            await _socket.SendAsync(bytes, WebSocketMessageType.Text, endOfMessage: true, ct).ConfigureAwait(false);
        }
        finally
        {
            _sendLock.Release();
        }
    }

    // ---------------------------------------------------------------- receive side

    /// <summary>The next (not yet consumed) invocation of <paramref name="target"/>, in arrival order.</summary>
    /// <exception cref="TimeoutException">None within <paramref name="timeout"/>, or the connection closed first.</exception>
    public async Task<HubMessage> NextAsync(string target, TimeSpan timeout, CancellationToken ct = default)
    {
        var channel = ChannelFor(target);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(timeout);
        try
        {
            return await channel.Reader.ReadAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new TimeoutException($"No '{target}' invocation within {timeout}.");
        }
        catch (ChannelClosedException)
        {
            throw new TimeoutException($"No '{target}' invocation: the connection closed ({CloseError ?? "clean close"}).");
        }
    }

    /// <summary>True when no invocation (of any target) arrives within <paramref name="within"/> from now.</summary>
    public async Task<bool> NothingArrivesAsync(TimeSpan within)
    {
        Task arrival;
        lock (_gate) arrival = _anyArrival.Task;
        var done = await Task.WhenAny(arrival, Task.Delay(within)).ConfigureAwait(false);
        return done != arrival;
    }

    /// <summary>True when no invocation of <paramref name="target"/> arrives within the window (other targets are ignored).</summary>
    public async Task<bool> NothingArrivesAsync(string target, TimeSpan within)
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Handler(HubMessage m)
        {
            if (string.Equals(m.Target, target, StringComparison.OrdinalIgnoreCase)) tcs.TrySetResult();
        }
        OnMessage += Handler;
        try
        {
            var done = await Task.WhenAny(tcs.Task, Task.Delay(within)).ConfigureAwait(false);
            return done != tcs.Task;
        }
        finally
        {
            OnMessage -= Handler;
        }
    }

    private Channel<HubMessage> ChannelFor(string target)
        => _byTarget.GetOrAdd(target, static _ => Channel.CreateUnbounded<HubMessage>(
            new UnboundedChannelOptions { SingleWriter = true }));

    private async Task ReceiveLoopAsync()
    {
        string? error = null;
        try
        {
            while (!_cts.IsCancellationRequested)
            {
                var record = await _reader.ReadAsync(_cts.Token).ConfigureAwait(false);
                if (record is null)
                {
                    // Peer closed the socket; answer the close handshake.
                    if (_socket.State == WebSocketState.CloseReceived)
                    {
                        try { await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, CancellationToken.None).ConfigureAwait(false); }
                        catch { /* best effort */ }
                    }
                    break;
                }
                if (record.Length == 0) continue;
                if (!Handle(record, out var closeError))
                {
                    error = closeError;
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_cts.IsCancellationRequested) { }
        catch (Exception ex)
        {
            error = ex.Message;
        }
        finally
        {
            Complete(error);
        }
    }

    /// <returns>false when a Close message arrived.</returns>
    private bool Handle(byte[] record, out string? closeError)
    {
        closeError = null;
        using var doc = JsonDocument.Parse(record);
        var root = doc.RootElement;
        var type = root.TryGetProperty("type", out var t) ? t.GetInt32() : 0;
        switch (type)
        {
            case TypeInvocation:
            {
                var target = root.GetProperty("target").GetString() ?? "";
                var args = root.TryGetProperty("arguments", out var a) && a.ValueKind == JsonValueKind.Array
                    ? a.EnumerateArray().Select(e => e.Clone()).ToArray()
                    : [];
                var msg = new HubMessage(target, args, DateTimeOffset.UtcNow);
                TaskCompletionSource arrival;
                lock (_gate)
                {
                    _received.Add(msg);
                    arrival = _anyArrival;
                    _anyArrival = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
                ChannelFor(target).Writer.TryWrite(msg);
                arrival.TrySetResult();
                try { OnMessage?.Invoke(msg); } catch { /* a test handler's fault is not the connection's */ }
                return true;
            }
            case TypeCompletion:
            {
                var id = root.TryGetProperty("invocationId", out var i) ? i.GetString() : null;
                if (id is not null && _pending.TryGetValue(id, out var tcs))
                {
                    if (root.TryGetProperty("error", out var err))
                        tcs.TrySetException(new HubInvocationException(err.GetString() ?? "error"));
                    else if (root.TryGetProperty("result", out var res) && res.ValueKind != JsonValueKind.Null)
                        tcs.TrySetResult(res.Clone());
                    else
                        tcs.TrySetResult(null);
                }
                return true;
            }
            case TypeClose:
                closeError = root.TryGetProperty("error", out var e) ? e.GetString() : null;
                return false;
            case TypePing:
                Interlocked.Increment(ref _pingsReceived);
                return true;
            case TypeStreamItem:
            default:
                return true;
        }
    }

    private void Complete(string? error)
    {
        lock (_gate)
        {
            if (_closed.Task.IsCompleted) return;
            CloseError = error;
        }
        foreach (var ch in _byTarget.Values) ch.Writer.TryComplete();
        foreach (var p in _pending.Values)
            p.TrySetException(new InvalidOperationException("Connection closed before completion: " + (error ?? "clean close")));
        _closed.TrySetResult();
    }

    private async Task PingLoopAsync(TimeSpan interval)
    {
        try
        {
            using var timer = new PeriodicTimer(interval);
            while (await timer.WaitForNextTickAsync(_cts.Token).ConfigureAwait(false))
            {
                if (_socket.State != WebSocketState.Open) break;
                await SendRawAsync(PingRecord, _cts.Token).ConfigureAwait(false);
            }
        }
        catch { /* closing */ }
    }

    // ---------------------------------------------------------------- dispose

    /// <summary>Sends a Close message, closes the socket (2 s grace), and completes <see cref="Closed"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        if (_socket.State == WebSocketState.Open)
        {
            using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(2));
            try
            {
                await SendRawAsync(Encoding.UTF8.GetBytes("{\"type\":7}\u001e"), grace.Token).ConfigureAwait(false);
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, grace.Token).ConfigureAwait(false);
                if (_receiveLoop is not null)
                    await _receiveLoop.WaitAsync(grace.Token).ConfigureAwait(false);
            }
            catch { /* fall through to abort */ }
        }
        _cts.Cancel();
        try { _socket.Abort(); } catch { }
        try
        {
            if (_receiveLoop is not null) await _receiveLoop.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
            if (_pingLoop is not null) await _pingLoop.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch { }
        Complete(CloseError);
        _socket.Dispose();
        _cts.Dispose();
    }
}

using System.Globalization;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace ImagePictures.Api.Events;

/// <summary>
/// The process's one connection to RabbitMQ (Events:RabbitMq:Uri). Once made, the client's automatic
/// recovery keeps it; a broker that is not there at start is tried again on each delivery attempt.
/// A connection whose recovery has not succeeded within the <see cref="RecoveryGrace"/> is replaced: the
/// client gives up recovering when a broker that is still booting refuses the handshake.
/// </summary>
public sealed class RabbitMqConnection(EventsOptions options, ILogger<RabbitMqConnection> log) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private IConnection? _connection;
    private readonly RecoveryGrace _closed = new();

    /// <summary>A channel with publisher confirms and their tracking, after declaring the exchange (durable, topic).</summary>
    public async Task<IChannel> OpenChannelAsync(int maxOutstanding, CancellationToken ct)
    {
        var connection = await ConnectAsync(ct);
        var channel = await connection.CreateChannelAsync(new CreateChannelOptions(
            publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true,
            outstandingPublisherConfirmationsRateLimiter: new ThrottlingRateLimiter(maxOutstanding)), ct);
        try
        {
            await channel.ExchangeDeclareAsync(options.RabbitMqExchange, ExchangeType.Topic, durable: true, autoDelete: false, cancellationToken: ct);
            return channel;
        }
        catch
        {
            await channel.DisposeAsync();
            throw;
        }
    }

    /// <summary>Declares the exchange at start, so that consumers can bind to it before the first event; a broker that is down only logs.</summary>
    public async Task DeclareAtStartAsync(CancellationToken ct)
    {
        try
        {
            await using var channel = await OpenChannelAsync(1, ct);
            await channel.CloseAsync(ct);
            log.LogInformation("Events go to the RabbitMQ exchange {Exchange} at {Host}", options.RabbitMqExchange, options.RabbitMqUri!.Host);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            log.LogWarning("RabbitMQ at {Host} is not reachable ({Error}); events wait in the log until it is", options.RabbitMqUri!.Host, e.Message);
        }
    }

    /// <summary>Drops the connection (the next channel connects anew): for a connection whose recovery never completes.</summary>
    public async Task ReplaceAsync()
    {
        await _gate.WaitAsync();
        try { await DisposeAsync(); } finally { _gate.Release(); }
    }

    private async Task<IConnection> ConnectAsync(CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (_connection is { IsOpen: false })
            {
                if (_closed.IsOver())
                {
                    log.LogWarning("The RabbitMQ connection did not recover within {Seconds} s; connecting anew", RecoveryGrace.Period.TotalSeconds);
                    await DisposeAsync();
                }
            }
            else _closed.Reset();
            if (_connection is not null) return _connection;
            var factory = new ConnectionFactory
            {
                Uri = options.RabbitMqUri!,
                AutomaticRecoveryEnabled = true,
                TopologyRecoveryEnabled = true,
                NetworkRecoveryInterval = TimeSpan.FromSeconds(2),
                RequestedHeartbeat = TimeSpan.FromSeconds(30),
                ClientProvidedName = $"imagepictures@{Environment.MachineName}",
            };
            return _connection = await factory.CreateConnectionAsync(ct);
        }
        finally { _gate.Release(); }
    }

    public async ValueTask DisposeAsync()
    {
        if (_connection is not { } connection) return;
        _connection = null;
        _closed.Reset();
        // Closing a connection that is still recovering can block: never let it hold up the replacement.
        var closing = Task.Run(async () =>
        {
            try
            {
                if (connection.IsOpen) await connection.CloseAsync(TimeSpan.FromSeconds(5));
                connection.Dispose();
            }
            catch (Exception) { /* closing a broken connection */ }
        });
        await Task.WhenAny(closing, Task.Delay(TimeSpan.FromSeconds(6)));
    }
}

/// <summary>
/// The RabbitMQ exchange (Events:RabbitMq:Uri), row <see cref="Id"/> of event_sinks. Publishes with
/// routing key pictures.{type}: a batch goes out without waiting, then its confirms are awaited in
/// order. On a nack or a closed channel the batch's confirmed prefix counts, the channel is dropped
/// and the dispatcher retries from the cursor (the client recovers the connection meanwhile):
/// duplicates are possible, loss is not.
/// </summary>
public sealed class RabbitMqSink(EventsOptions options, ILogger<RabbitMqConnection> log) : IEventSink, IAsyncDisposable
{
    public const string Id = "rabbitmq";
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromSeconds(10);
    private readonly RabbitMqConnection _connection = new(options, log);
    private IChannel? _channel;
    private readonly RecoveryGrace _closed = new();

    public string Kind => "rabbitmq";
    public bool IsConfigured => options.RabbitMqUri is not null;
    public TimeSpan? DisableAfter => null;
    public TimeSpan RetryDelay(int failures) => TimeSpan.FromSeconds(Math.Min(failures, 10));
    public string Target(EventSinkStatusRow row) => "exchange";

    /// <summary>The row exists from the start, so the exchange hears every change from the first; without a URI it is disabled, so that event-prune stops keeping events for it.</summary>
    public async Task PrepareAsync(EventSinkStore store, CancellationToken ct)
    {
        await store.RegisterAsync(Id, Kind, enabled: IsConfigured, ct);
        if (IsConfigured) _ = _connection.DeclareAtStartAsync(ct);
    }

    public async Task<SinkDelivery> DeliverAsync(EventSinkRow row, IReadOnlyList<OutgoingEvent> events, CancellationToken ct)
    {
        var confirms = new List<ValueTask>(events.Count);
        var confirmed = 0;
        // An attempt on a connection that is still recovering can wait for ever: bound it, and count a
        // timed-out attempt like a closed connection (replaced after the grace period).
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(ct);
        attempt.CancelAfter(AttemptTimeout);
        try
        {
            _channel ??= await _connection.OpenChannelAsync(events.Count * 2, attempt.Token);
            foreach (var e in events)
                confirms.Add(_channel.BasicPublishAsync(options.RabbitMqExchange, "pictures." + e.Type, mandatory: false, Properties(e), e.Body, attempt.Token));
            for (; confirmed < confirms.Count; confirmed++) await confirms[confirmed];
            _closed.Reset();
            return new SinkDelivery(confirmed, null);
        }
        catch (Exception e) when (!ct.IsCancellationRequested)
        {
            for (var i = confirmed + 1; i < confirms.Count; i++)
            {
                try { await confirms[i]; } catch (Exception) { /* already failing: the batch is retried from the first failure */ }
            }
            await CloseChannelAsync();
            // A connection that still reports closed after the grace period is replaced, whatever it says of itself.
            if (e is not (AlreadyClosedException or OperationCanceledException)) _closed.Reset();
            else if (_closed.IsOver()) await _connection.ReplaceAsync();
            return new SinkDelivery(confirmed, Describe(e));
        }
    }

    private static BasicProperties Properties(OutgoingEvent e) => new()
    {
        Persistent = true,
        ContentType = "application/json",
        MessageId = e.Seq.ToString(CultureInfo.InvariantCulture),
        Type = e.Type,
        Timestamp = new AmqpTimestamp(new DateTimeOffset(e.OccurredAt, TimeSpan.Zero).ToUnixTimeSeconds()),
    };

    private static string Describe(Exception e) => e switch
    {
        PublishException p => $"RabbitMQ did not confirm message {p.PublishSequenceNumber} ({(p.IsReturn ? "returned" : "nack")})",
        AlreadyClosedException c => $"The RabbitMQ connection is closed: {c.ShutdownReason?.ReplyText ?? c.Message}",
        BrokerUnreachableException => "RabbitMQ is not reachable",
        _ => $"RabbitMQ: {e.Message}",
    };

    public async ValueTask DisposeAsync()
    {
        await CloseChannelAsync();
        await _connection.DisposeAsync();
    }

    private async Task CloseChannelAsync()
    {
        if (_channel is null) return;
        var channel = _channel;
        _channel = null;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try { if (channel.IsOpen) await channel.CloseAsync(timeout.Token); } catch (Exception) { /* closing a broken channel */ }
        channel.Dispose();
    }
}

/// <summary>
/// The one grace period of a RabbitMQ connection that reports closed (or keeps timing out): 15 s since
/// the first such sign in a row, then it is replaced. Not a retry, so not Polly: see docs/dependencies.md.
/// Not thread-safe: each owner calls it under its own serialisation (the connection's gate, the dispatcher's one delivery at a time).
/// </summary>
internal sealed class RecoveryGrace
{
    public static readonly TimeSpan Period = TimeSpan.FromSeconds(15);
    private DateTime? _closedSince;

    /// <summary>Counts another sign of a closed connection; true once they have lasted longer than <see cref="Period"/> (the count then starts anew).</summary>
    public bool IsOver()
    {
        _closedSince ??= DateTime.UtcNow;
        if (DateTime.UtcNow - _closedSince <= Period) return false;
        _closedSince = null;
        return true;
    }

    /// <summary>The connection works (or was replaced).</summary>
    public void Reset() => _closedSince = null;
}

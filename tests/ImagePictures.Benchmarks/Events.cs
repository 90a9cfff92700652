using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Npgsql;
using RabbitMQ.Client;

namespace ImagePictures.Benchmarks;

/// <summary>
/// Events to other services: how fast the service's dispatcher drains the event log to RabbitMQ and
/// to one webhook, each against a bare loop over the same broker or receiver in the same run (a
/// publisher with confirms in batches; sequential POSTs, as a webhook's order requires).
/// The events are written straight into the log (as committed changes write them), so the figure
/// is the dispatcher's, not the API's.
/// </summary>
public static class Events
{
    private const int Batch = 500;

    public sealed record Result(
        double RmqRate, double RmqBareRate, int RmqN, uint RmqReceived, bool RmqCaughtUp,
        double WebhookRate, double WebhookBareRate, int WebhookN, int WebhookReceived, bool WebhookCaughtUp);

    public static async Task<Result> RunAsync(string svc, string conn, string amqpUri, string exchange, int n, int webhookN)
    {
        var http = new HttpClient { BaseAddress = new Uri(svc) };
        var token = (await (await http.PostAsJsonAsync("/dev/token", new { userId = "bench-admin", roles = new[] { "admin" } })).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("accessToken").GetString();
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        var body = SampleBody();

        // ---- RabbitMQ: bare publisher, then the service.
        var factory = new ConnectionFactory { Uri = new Uri(amqpUri) };
        await using var connection = await factory.CreateConnectionAsync();
        await using var setup = await connection.CreateChannelAsync();
        var bareQueue = await BindAsync(setup, exchange + ".bare");
        var serviceQueue = await BindAsync(setup, exchange);
        var bare = Stopwatch.StartNew();
        await using (var channel = await connection.CreateChannelAsync(new CreateChannelOptions(true, true, new ThrottlingRateLimiter(Batch * 2))))
        {
            for (var sent = 0; sent < n; sent += Batch)
            {
                var confirms = new List<ValueTask>();
                for (var i = sent; i < Math.Min(n, sent + Batch); i++)
                    confirms.Add(channel.BasicPublishAsync(exchange + ".bare", "pictures.PictureUpdated", false,
                        new BasicProperties { Persistent = true, ContentType = "application/json", MessageId = i.ToString(), Type = "PictureUpdated" }, body));
                foreach (var c in confirms) await c;
            }
        }
        var bareRate = n / bare.Elapsed.TotalSeconds;

        var (rmqSeconds, rmqCaughtUp) = await DrainThroughServiceAsync(conn, "rabbitmq", n);
        var rmqReceived = (await setup.QueueDeclarePassiveAsync(serviceQueue)).MessageCount;
        await setup.QueueDeleteAsync(bareQueue);
        await setup.QueueDeleteAsync(serviceQueue);

        // ---- One webhook: bare POST loop, then the service (RabbitMQ is caught up, so it does not compete).
        await using var receiver = await Receiver.StartAsync();
        var poster = new HttpClient();
        var bareWebhook = Stopwatch.StartNew();
        for (var i = 0; i < webhookN; i++)
        {
            using var response = await poster.PostAsync(receiver.Url, new ByteArrayContent(body) { Headers = { ContentType = new("application/json") } });
            response.EnsureSuccessStatusCode();
        }
        var bareWebhookRate = webhookN / bareWebhook.Elapsed.TotalSeconds;

        var created = await (await http.PostAsJsonAsync("/api/admin/webhooks", new { url = receiver.Url })).Content.ReadFromJsonAsync<JsonElement>();
        var id = created.GetProperty("id").GetString()!;
        receiver.Reset();
        var (whSeconds, whCaughtUp) = await DrainThroughServiceAsync(conn, id, webhookN);
        var whReceived = receiver.Count;
        await http.DeleteAsync($"/api/admin/webhooks/{id}");

        return new Result(n / rmqSeconds, bareRate, n, rmqReceived, rmqCaughtUp, webhookN / whSeconds, bareWebhookRate, webhookN, whReceived, whCaughtUp);
    }

    private static async Task<string> BindAsync(IChannel channel, string exchange)
    {
        await channel.ExchangeDeclareAsync(exchange, ExchangeType.Topic, durable: true, autoDelete: false);
        var queue = (await channel.QueueDeclareAsync($"bench-{Guid.NewGuid():N}", durable: true, exclusive: false, autoDelete: false)).QueueName;
        await channel.QueueBindAsync(queue, exchange, "pictures.#");
        return queue;
    }

    /// <summary>Writes <paramref name="n"/> events into the log and times until the sink's cursor reaches the last.</summary>
    private static async Task<(double Seconds, bool CaughtUp)> DrainThroughServiceAsync(string conn, string sinkId, int n)
    {
        await using var db = new NpgsqlConnection(conn);
        await db.OpenAsync();
        var clock = Stopwatch.StartNew();
        long last = 0;
        for (var written = 0; written < n; written += Batch)
        {
            last = await db.ExecuteScalarAsync<long>("""
                WITH e AS (
                    INSERT INTO events (user_id, type, picture_id)
                    SELECT 'bench-events', 'PictureUpdated', gen_random_uuid() FROM generate_series(1, @count)
                    RETURNING seq)
                SELECT max(seq) FROM e
                """, new { count = Math.Min(Batch, n - written) });
            await db.ExecuteAsync("SELECT pg_notify('picture_events', @last::text)", new { last }); // one wake-up per batch
        }
        while (clock.Elapsed < TimeSpan.FromMinutes(3))
        {
            if (await db.ExecuteScalarAsync<long>("SELECT cursor_seq FROM event_sinks WHERE id = @sinkId", new { sinkId }) >= last)
                return (clock.Elapsed.TotalSeconds, true);
            await Task.Delay(20);
        }
        return (clock.Elapsed.TotalSeconds, false);
    }

    private static byte[] SampleBody() => JsonSerializer.SerializeToUtf8Bytes(new
    {
        seq = 123456, type = "PictureUpdated", userId = "bench-events", pictureId = Guid.NewGuid(), occurredAt = DateTime.UtcNow,
        picture = new
        {
            id = Guid.NewGuid(), userId = "bench-events", isActive = true, isDefault = false, width = 512, height = 512, bytes = 48211,
            contentHash = new string('a', 64), title = "Beach, 2026", createdAt = DateTime.UtcNow, deletedAt = (DateTime?)null, purgeAfter = (DateTime?)null,
            urls = new[] { 32, 64, 128, 256, 512 }.ToDictionary(s => s.ToString(), s => $"/pictures/x/{s}"),
        },
    }, new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// <summary>A Kestrel endpoint on 127.0.0.1 that answers every POST with 204 and counts them.</summary>
    private sealed class Receiver : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private int _count;
        private Receiver(WebApplication app) => _app = app;
        public string Url { get; private set; } = "";
        public int Count => Volatile.Read(ref _count);
        public void Reset() => Interlocked.Exchange(ref _count, 0);

        public static async Task<Receiver> StartAsync()
        {
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls("http://127.0.0.1:0");
            builder.Logging.ClearProviders();
            var app = builder.Build();
            var receiver = new Receiver(app);
            app.MapPost("/hook", async (HttpRequest r) =>
            {
                await r.Body.CopyToAsync(Stream.Null);
                Interlocked.Increment(ref receiver._count);
                return Results.NoContent();
            });
            await app.StartAsync();
            receiver.Url = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/hook";
            return receiver;
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}

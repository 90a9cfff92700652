using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using ImagePictures.Api.Events;
using ImagePictures.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using RabbitMQ.Client;

namespace ImagePictures.Api.Tests.Events;

/// <summary>A clock the test can move forward, to live through 24 h of webhook failures in a second.</summary>
public sealed class TestClock : TimeProvider
{
    public TimeSpan Offset { get; set; }
    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;
}

/// <summary>The service with quick polls and retries, and a clock of the test's.</summary>
public class EventsApplication : PicturesApplication
{
    public TestClock Clock { get; } = new();

    public EventsApplication()
    {
        With("Events:PollSeconds", "0.3");
        With("Events:Webhooks:RetryDelaysSeconds:0", "0.2");
        With("Events:Webhooks:RetryDelaysSeconds:1", "0.3");
        With("Events:Webhooks:RetryDelaysSeconds:2", "0.5");
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.ConfigureTestServices(s => s.AddSingleton<TimeProvider>(Clock));
    }

    public EventDispatcher Dispatcher => Services.GetRequiredService<EventDispatcher>();
}

public static class EventsKit
{
    public static async Task<long> NewestSeqAsync(string connectionString)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        return await conn.ExecuteScalarAsync<long>("SELECT coalesce(max(seq), 0) FROM events");
    }

    public static async Task<long> CursorAsync(string connectionString, string sinkId)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        return await conn.ExecuteScalarAsync<long>("SELECT cursor_seq FROM event_sinks WHERE id = @sinkId", new { sinkId });
    }

    public static async Task<string> SinkRowAsync(string connectionString, string sinkId)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        return await conn.ExecuteScalarAsync<string>("SELECT row_to_json(s)::text FROM (SELECT id, cursor_seq, disabled, failing_since, last_error FROM event_sinks WHERE id = @sinkId) s", new { sinkId }) ?? "none";
    }

    public static async Task<long[]> SeqsAsync(string connectionString, long after)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        return (await conn.QueryAsync<long>("SELECT seq FROM events WHERE seq > @after ORDER BY seq", new { after })).ToArray();
    }

    /// <summary>A durable queue bound to pictures.# on the exchange (declared as the service declares it).</summary>
    public static async Task<string> BindQueueAsync(string exchange)
    {
        await using var connection = await TestBroker.Instance.Factory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.ExchangeDeclareAsync(exchange, ExchangeType.Topic, durable: true, autoDelete: false);
        var queue = $"q-{Guid.NewGuid():N}";
        await channel.QueueDeclareAsync(queue, durable: true, exclusive: false, autoDelete: false);
        await channel.QueueBindAsync(queue, exchange, "pictures.#");
        return queue;
    }

    public sealed record Message(string RoutingKey, string Body, IReadOnlyBasicProperties Properties)
    {
        public long Seq => long.Parse(Properties.MessageId!);
    }

    /// <summary>Takes every message now in the queue (acknowledging them).</summary>
    public static async Task<List<Message>> DrainAsync(string queue)
    {
        await using var connection = await TestBroker.Instance.Factory().CreateConnectionAsync();
        await using var channel = await connection.CreateChannelAsync();
        var messages = new List<Message>();
        while (await channel.BasicGetAsync(queue, autoAck: true) is { } got)
            messages.Add(new Message(got.RoutingKey, System.Text.Encoding.UTF8.GetString(got.Body.Span), got.BasicProperties));
        return messages;
    }

    /// <summary>Drains the queue until every seq in <paramref name="expected"/> has arrived; returns everything taken.</summary>
    public static async Task<List<Message>> ReceiveAsync(string queue, IReadOnlyCollection<long> expected)
    {
        var all = new List<Message>();
        await Eventually(async () =>
        {
            all.AddRange(await DrainAsync(queue));
            return expected.All(s => all.Any(m => m.Seq == s));
        }, $"the seqs {string.Join(",", expected.Except(all.Select(m => m.Seq)).Take(20))} in queue {queue}");
        return all;
    }

    public static async Task<JsonElement> CreateWebhookAsync(HttpClient admin, string url, string[]? events = null)
    {
        var response = await admin.PostAsJsonAsync("/api/admin/webhooks", events is null ? new { url } : (object)new { url, events });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return await response.Content.ReadFromJsonAsync<JsonElement>();
    }

    public static async Task<JsonElement> WebhookStatusAsync(HttpClient admin, string id) =>
        (await admin.GetFromJsonAsync<JsonElement[]>("/api/admin/webhooks"))!.Single(w => w.GetProperty("id").GetString() == id);

    /// <summary>A cheap change that writes one event: renaming a picture.</summary>
    public static async Task RenameAsync(HttpClient owner, string userId, Guid pictureId, string title)
    {
        var response = await owner.PatchAsJsonAsync($"/api/users/{userId}/pictures/{pictureId}", new { title });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}

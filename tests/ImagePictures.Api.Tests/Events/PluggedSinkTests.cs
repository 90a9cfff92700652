using Dapper;
using ImagePictures.Api.Events;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Npgsql;
using static ImagePictures.Api.Tests.Events.EventsKit;
using static ImagePictures.Api.Tests.Realtime.RealtimeKit;

namespace ImagePictures.Api.Tests.Events;

/// <summary>
/// A third kind of sink plugs in with one class and one registration line: the dispatcher delivers
/// its rows without knowing it (and the database does not list the kinds).
/// </summary>
[Trait("Category", "Api")]
public class PluggedSinkTests : IAsyncLifetime
{
    /// <summary>A sink of the test's: keeps what it is given, in order.</summary>
    private sealed class CollectingSink : IEventSink
    {
        public static readonly System.Collections.Concurrent.ConcurrentQueue<(string Row, long Seq, string Type)> Delivered = new();
        public string Kind => "collector";
        public bool IsConfigured => true;
        public TimeSpan? DisableAfter => null;
        public TimeSpan RetryDelay(int failures) => TimeSpan.FromSeconds(1);
        public string Target(EventSinkStatusRow row) => "the test";
        public Task PrepareAsync(EventSinkStore store, CancellationToken ct) => store.RegisterAsync("collector-1", Kind, enabled: true, ct);

        public Task<SinkDelivery> DeliverAsync(EventSinkRow row, IReadOnlyList<OutgoingEvent> events, CancellationToken ct)
        {
            foreach (var e in events) Delivered.Enqueue((row.Id, e.Seq, e.Type));
            return Task.FromResult(new SinkDelivery(events.Count, null));
        }
    }

    private sealed class Application : EventsApplication
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.ConfigureTestServices(s => s.AddEventSink<CollectingSink>());
        }
    }

    private readonly Application _app = new();
    public Task InitializeAsync() => ((IAsyncLifetime)_app).InitializeAsync();
    public Task DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    [Fact]
    public async Task ARegisteredSinkReceivesTheLogInOrderAndObeysItsRowsEventTypes()
    {
        await using (var conn = new NpgsqlConnection(_app.ConnectionString))
            await conn.ExecuteAsync("""
                INSERT INTO event_sinks (id, kind, event_types, cursor_seq)
                VALUES ('collector-2', 'collector', ARRAY['ActivePictureChanged'], (SELECT coalesce(max(seq), 0) FROM events))
                """);
        var start = await NewestSeqAsync(_app.ConnectionString);
        await UploadAsync(_app, "plugged", activate: true);
        var seqs = await SeqsAsync(_app.ConnectionString, start);

        await Eventually(() => Task.FromResult(seqs.All(s => CollectingSink.Delivered.Any(d => d.Row == "collector-1" && d.Seq == s))),
            "every new event at collector-1");
        Assert.Equal(seqs, CollectingSink.Delivered.Where(d => d.Row == "collector-1" && d.Seq > start).Select(d => d.Seq).Distinct());
        await Eventually(async () => await CursorAsync(_app.ConnectionString, "collector-2") >= seqs.Max(), "collector-2's cursor");
        Assert.Equal(["ActivePictureChanged"], CollectingSink.Delivered.Where(d => d.Row == "collector-2").Select(d => d.Type).Distinct());
    }
}

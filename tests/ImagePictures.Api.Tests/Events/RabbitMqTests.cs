using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ImagePictures.Api.Events;
using ImagePictures.Api.Realtime;
using ImagePictures.Api.Tests.Infrastructure;
using ImagePictures.Dashboard;
using Microsoft.Extensions.DependencyInjection;
using RabbitMQ.Client;
using static ImagePictures.Api.Tests.Events.EventsKit;
using static ImagePictures.Api.Tests.Realtime.RealtimeKit;

namespace ImagePictures.Api.Tests.Events;

/// <summary>The tests that use the private broker run one after the other (one of them restarts it); it stops when they are done.</summary>
[CollectionDefinition("rabbitmq")]
public sealed class RabbitMqCollection : ICollectionFixture<RabbitMqCollection.BrokerLifetime>
{
    public sealed class BrokerLifetime : IDisposable
    {
        public void Dispose() => TestBroker.StopShared();
    }
}

/// <summary>The service publishing to its own exchange on the private broker.</summary>
public class RabbitMqApplication : EventsApplication
{
    public string Exchange { get; } = $"ip-test-{Guid.NewGuid():N}";

    public RabbitMqApplication()
    {
        With("Events:RabbitMq:Uri", TestBroker.Instance.Uri);
        With("Events:RabbitMq:Exchange", Exchange);
    }
}

[Trait("Category", "Api")]
[Collection("rabbitmq")]
public class RabbitMqTests(RabbitMqApplication app) : IClassFixture<RabbitMqApplication>
{
    [Fact]
    public async Task EveryEventTypeReachesAQueueBoundToPicturesHashWithRoutingKeyBodyAndProperties()
    {
        var queue = await BindQueueAsync(app.Exchange);
        const string user = "rmq-types";
        var owner = app.ClientFor(user);
        var first = await UploadAsync(app, user, activate: true);        // PictureUploaded, ActivePictureChanged
        var second = await UploadAsync(app, user);                       // PictureUploaded
        await EventsKit.RenameAsync(owner, user, first.Id, "renamed");   // PictureUpdated
        Assert.Equal(HttpStatusCode.OK, (await owner.DeleteAsync($"/api/users/{user}/pictures/{second.Id}")).StatusCode);          // PictureTrashed
        Assert.Equal(HttpStatusCode.OK, (await owner.PostAsync($"/api/users/{user}/trash/{second.Id}/restore", null)).StatusCode); // PictureRestored
        Assert.Equal(HttpStatusCode.OK, (await owner.DeleteAsync($"/api/users/{user}/pictures/{second.Id}")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await owner.DeleteAsync($"/api/users/{user}/trash/{second.Id}")).StatusCode);      // PicturePurged
        Assert.Equal(HttpStatusCode.OK, (await owner.DeleteAsync($"/api/users/{user}")).StatusCode);                                // UserPicturesDeleted

        var logged = await app.Admin().GetFromJsonAsync<JsonElement[]>($"/api/users/{user}/events?after=0");
        var messages = await ReceiveAsync(queue, logged!.Select(e => e.GetProperty("seq").GetInt64()).ToList());

        Assert.Equal(
            new[] { EventTypes.PictureUploaded, EventTypes.PictureUpdated, EventTypes.ActivePictureChanged, EventTypes.PictureTrashed,
                    EventTypes.PictureRestored, EventTypes.PicturePurged, EventTypes.UserPicturesDeleted }.Order(),
            messages.Select(m => m.Properties.Type!).Distinct().Order());
        foreach (var e in logged!)
        {
            var seq = e.GetProperty("seq").GetInt64();
            var type = e.GetProperty("type").GetString()!;
            var m = Assert.Single(messages, m => m.Seq == seq);
            Assert.Equal($"pictures.{type}", m.RoutingKey);
            Assert.True(JsonNode.DeepEquals(JsonNode.Parse(e.GetRawText()), JsonNode.Parse(m.Body)), $"body of {seq}: {m.Body}");
            Assert.Equal("application/json", m.Properties.ContentType);
            Assert.Equal(DeliveryModes.Persistent, m.Properties.DeliveryMode);
            Assert.Equal(seq.ToString(), m.Properties.MessageId);
            Assert.Equal(type, m.Properties.Type);
            var occurred = e.GetProperty("occurredAt").GetDateTimeOffset().ToUnixTimeSeconds();
            Assert.InRange(m.Properties.Timestamp.UnixTime, occurred - 1, occurred + 1);
        }
    }

    [Fact]
    public async Task ABrokerRestartInTheMiddleOf200ChangesLosesNoEventAndTheCursorReachesTheNewestSeq()
    {
        var queue = await BindQueueAsync(app.Exchange);
        const string user = "rmq-restart";
        var picture = await UploadAsync(app, user);
        var start = await NewestSeqAsync(app.ConnectionString);
        var owner = app.ClientFor(user);

        var made = 0;
        var changes = Task.Run(async () =>
        {
            for (var i = 0; i < 200; i++)
            {
                await EventsKit.RenameAsync(owner, user, picture.Id, $"title {i}");
                Interlocked.Increment(ref made);
                await Task.Delay(10);
            }
        });
        await Eventually(() => Task.FromResult(Volatile.Read(ref made) >= 50), "50 changes before the restart");
        await Task.Run(TestBroker.Instance.Restart);
        await changes;

        var newest = await NewestSeqAsync(app.ConnectionString);
        var expected = await SeqsAsync(app.ConnectionString, start);
        Assert.Equal(200, expected.Length);
        try { await Eventually(async () => await CursorAsync(app.ConnectionString, RabbitMqSink.Id) == newest, "the cursor at the newest seq"); }
        catch (TimeoutException e) { throw new TimeoutException($"{e.Message} {newest}; the sink: {await SinkRowAsync(app.ConnectionString, RabbitMqSink.Id)}"); }
        var messages = await ReceiveAsync(queue, expected);
        Assert.Empty(expected.Except(messages.Select(m => m.Seq)));
    }

    [Fact]
    public async Task TheDashboardShowsTheSinkCaughtUp()
    {
        await UploadAsync(app, "rmq-dashboard");
        var newest = await NewestSeqAsync(app.ConnectionString);
        await Eventually(async () => await CursorAsync(app.ConnectionString, RabbitMqSink.Id) >= newest, "delivery");
        using var scope = app.Services.CreateScope();
        var views = await scope.ServiceProvider.GetRequiredService<IEventSinkStatusSource>().GetEventSinksAsync();
        var sink = Assert.Single(views, v => v.Kind == "rabbitmq");
        Assert.True(sink.Cursor >= newest);
        Assert.Null(sink.LastError);
        Assert.False(sink.Disabled);
    }
}

[Trait("Category", "Api")]
[Collection("rabbitmq")]
public class RabbitMqTwoInstanceTests
{
    [Fact]
    public async Task EachEventIsPublishedOnceAndTheSecondInstanceTakesOverWhenTheFirstStops()
    {
        var a = new RabbitMqApplication();
        await ((IAsyncLifetime)a).InitializeAsync();
        var b = new EventsApplication { SharedConnectionString = a.ConnectionString, StorageRoot = a.StorageRoot };
        b.With("Events:RabbitMq:Uri", TestBroker.Instance.Uri).With("Events:RabbitMq:Exchange", a.Exchange);
        await ((IAsyncLifetime)b).InitializeAsync();
        var stopped = new List<EventsApplication>();
        try
        {
            var queue = await BindQueueAsync(a.Exchange);
            const string user = "rmq-two";
            var picture = await UploadAsync(a, user);
            var start = await NewestSeqAsync(a.ConnectionString);
            for (var i = 0; i < 20; i++)
                await EventsKit.RenameAsync((i % 2 == 0 ? a : b).ClientFor(user), user, picture.Id, $"title {i}");

            var expected = await SeqsAsync(a.ConnectionString, start);
            var newest = expected.Max();
            await Eventually(async () => await CursorAsync(a.ConnectionString, RabbitMqSink.Id) == newest, "the cursor at the newest seq");
            var messages = await ReceiveAsync(queue, expected);
            Assert.Equal(expected, messages.Select(m => m.Seq).Where(s => s > start).Order()); // each once, none doubled

            var holders = new EventsApplication[] { a, b }.Where(x => x.Dispatcher.HeldSinks.Contains(RabbitMqSink.Id)).ToList();
            var first = Assert.Single(holders);
            var second = first == a ? b : (EventsApplication)a;
            await ((IAsyncLifetime)first).DisposeAsync();
            stopped.Add(first);

            var before = await NewestSeqAsync(second.ConnectionString);
            for (var i = 0; i < 10; i++) await EventsKit.RenameAsync(second.ClientFor(user), user, picture.Id, $"later {i}");
            var later = await SeqsAsync(second.ConnectionString, before);
            Assert.Equal(10, later.Length);
            await ReceiveAsync(queue, later);
            Assert.Contains(RabbitMqSink.Id, second.Dispatcher.HeldSinks);
        }
        finally
        {
            foreach (var app in new EventsApplication[] { b, a }.Except(stopped)) await ((IAsyncLifetime)app).DisposeAsync();
        }
    }
}

/// <summary>A broker that is not there: the service stays ready and the sink's lag grows.</summary>
[Trait("Category", "Api")]
public class UnreachableBrokerTests : IAsyncLifetime
{
    private readonly EventsApplication _app = new();

    public async Task InitializeAsync()
    {
        using var listener = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var closedPort = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        _app.With("Events:RabbitMq:Uri", $"amqp://guest:guest@127.0.0.1:{closedPort}/");
        await ((IAsyncLifetime)_app).InitializeAsync();
    }

    public Task DisposeAsync() => ((IAsyncLifetime)_app).DisposeAsync();

    [Fact]
    public async Task ReadinessStaysUpAndTheDashboardShowsTheLagAndTheError()
    {
        await UploadAsync(_app, "rmq-down", activate: true);
        Assert.Equal(HttpStatusCode.OK, (await _app.CreateClient().GetAsync("/health/ready")).StatusCode);

        EventSinkView? sink = null;
        await Eventually(async () =>
        {
            using var scope = _app.Services.CreateScope();
            sink = (await scope.ServiceProvider.GetRequiredService<IEventSinkStatusSource>().GetEventSinksAsync()).Single(v => v.Kind == "rabbitmq");
            return sink.LastError is not null;
        }, "the broker's error on the dashboard");
        Assert.Equal(2, sink!.Lag);
        Assert.Contains("RabbitMQ", sink.LastError);
        Assert.Equal(HttpStatusCode.OK, (await _app.CreateClient().GetAsync("/health/ready")).StatusCode);
    }
}

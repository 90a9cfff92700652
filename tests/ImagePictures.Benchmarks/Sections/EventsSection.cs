using ImagePictures.Benchmarks.Harness;

namespace ImagePictures.Benchmarks.Sections;

/// <summary>
/// Events to other services: a private RabbitMQ broker and a second service on its own database that publishes
/// to it and to one webhook; events are written into the log in batches and timed until the sink's cursor
/// reaches the last one, against a bare publisher and a bare POST loop.
/// </summary>
public sealed class EventsSection() : Section("events")
{
    private const string RowName = "events to RabbitMQ / a webhook";

    public override async Task RunAsync(BenchContext ctx, Report report)
    {
        if (!File.Exists("/usr/lib/rabbitmq/bin/rabbitmq-server"))
        {
            report.Add(new BenchRow(RowName, "skipped: rabbitmq-server is not installed (scripts/setup.sh test)", "—", null, "for reference", Outcome.Skipped));
            return;
        }
        BenchContext.Log("events: starting a private RabbitMQ");
        ctx.Cleanup.Add("RabbitMQ", TestBroker.StopShared);
        var amqp = TestBroker.Instance.Uri;
        var conn = await ctx.CreateDatabaseAsync("imagepictures_events");
        var storage = Path.Combine(ctx.Work, "storage-events");
        TestPaths.NewStorageRoot(storage);
        var service = await ctx.StartServiceAsync("the events service", conn, storage, new Dictionary<string, string>
        {
            ["Events__RabbitMq__Uri"] = amqp,
            ["Events__RabbitMq__Exchange"] = "bench.events",
            ["Events__PollSeconds"] = "0.5",
        });
        var (n, webhookN) = (ctx.Options.RabbitEvents, ctx.Options.WebhookEvents);
        BenchContext.Log($"events: {n} events to RabbitMQ, {webhookN} to one webhook, each against a bare loop");
        Events.Result e;
        try { e = await Events.RunAsync(service.BaseAddress.ToString().TrimEnd('/'), conn, amqp, "bench.events", n, webhookN); }
        catch (Exception ex) when (ex is InvalidOperationException or HttpRequestException)
        {
            report.Add(new BenchRow(RowName, $"failed: {ex.Message} (the service's log: {service.Tail(3)})", "—", null, "for reference", Outcome.Failed));
            return;
        }
        finally { await service.DisposeAsync(); }
        var rmqDone = e.RmqCaughtUp && e.RmqReceived >= e.RmqN;
        var whDone = e.WebhookCaughtUp && e.WebhookReceived >= e.WebhookN;
        report.Add(new BenchRow($"events to RabbitMQ ({e.RmqN} events, confirms)", $"{e.RmqRate:0} events/s; {e.RmqReceived} in the queue",
            $"bare publisher, confirms in batches of 500: {e.RmqBareRate:0} messages/s", BenchRow.Divide(e.RmqRate, e.RmqBareRate), "for reference",
            rmqDone ? Outcome.Done : Outcome.Incomplete, e.RmqRate, e.RmqBareRate, "events/s"));
        report.Add(new BenchRow($"events to one webhook ({e.WebhookN} events, signed, in order)", $"{e.WebhookRate:0} events/s; {e.WebhookReceived} received",
            $"bare sequential POST loop to the same receiver: {e.WebhookBareRate:0} requests/s", BenchRow.Divide(e.WebhookRate, e.WebhookBareRate), "for reference",
            whDone ? Outcome.Done : Outcome.Incomplete, e.WebhookRate, e.WebhookBareRate, "events/s"));
    }
}

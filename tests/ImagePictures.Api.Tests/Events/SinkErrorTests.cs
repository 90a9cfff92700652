using System.Net;
using System.Text.RegularExpressions;
using Dapper;
using ImagePictures.Api.Events;
using ImagePictures.Api.Tests.Infrastructure;
using Npgsql;
using static ImagePictures.Api.Tests.Events.EventsKit;
using static ImagePictures.Api.Tests.Realtime.RealtimeKit;

namespace ImagePictures.Api.Tests.Events;

/// <summary>
/// A sink whose loop cannot run (here: the service's role may no longer read the event log) says
/// why where an operator looks: its lastError, /health/ready (which stays 200) and a metric.
/// </summary>
[Trait("Category", "Api")]
public class SinkErrorTests : WebhookFixture<EventsApplication>
{
    [Fact]
    public async Task ASinkThatCannotRunSaysWhyInItsLastErrorOnReadinessAndInTheMetric()
    {
        var admin = App.Admin();
        var id = await RegisterAsync("stuck");
        await UploadAsync(App, "wh-stuck");
        await Eventually(() => Task.FromResult(Receiver.Accepted("stuck").Count >= 1), "the first delivery");

        await using (var conn = new NpgsqlConnection(App.ConnectionString))
        {
            // The role (the tables' owner, no superuser) gives up reading the log; the change of the sink wakes its loop.
            await conn.ExecuteAsync("REVOKE SELECT ON events FROM CURRENT_USER");
            await conn.ExecuteAsync($"SELECT pg_notify('{EventSinkStore.Channel}', @id)", new { id });
        }

        // The sink's row as GET /api/admin/webhooks shows it (which itself needs the log, to count what is pending).
        await Eventually(async () => (await SinkRowAsync(App.ConnectionString, id)).Contains("Delivery stopped: 42501: permission denied for table events"),
            "the sink's lastError");
        var ready = await App.CreateClient().GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        var body = await ready.Content.ReadAsStringAsync();
        Assert.Contains("degraded", body);
        Assert.Contains(id, body);
        var metrics = await App.CreateClient().GetStringAsync("/metrics");
        Assert.Matches(new Regex("^imagepictures_events_sink_failures_total\\{[^}]*sink=\"webhook\"[^}]*\\} [1-9]", RegexOptions.Multiline), metrics);

        await using (var conn = new NpgsqlConnection(App.ConnectionString))
            await conn.ExecuteAsync("GRANT SELECT ON events TO CURRENT_USER");
    }
}

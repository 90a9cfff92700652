using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using ImagePictures.Api.Events;
using ImagePictures.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Npgsql;
using static ImagePictures.Api.Tests.Events.EventsKit;
using static ImagePictures.Api.Tests.Realtime.RealtimeKit;

namespace ImagePictures.Api.Tests.Events;

/// <summary>
/// Many webhooks share the dispatcher's few connections (one listener wakes them all), and their
/// number is capped. The service connects under an application name of its own here, so that
/// pg_stat_activity tells its connections from the test's.
/// </summary>
[Trait("Category", "Api")]
public class WebhookCapTests : WebhookFixture<WebhookCapTests.Application>
{
    private const int Cap = 30;
    private const string ServiceName = "imagepictures-under-test";

    public sealed class Application : EventsApplication
    {
        public Application() => With("Events:Webhooks:MaxEndpoints", Cap.ToString());

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            base.ConfigureWebHost(builder);
            builder.UseSetting("ConnectionStrings:Pictures", new NpgsqlConnectionStringBuilder(ConnectionString) { ApplicationName = ServiceName }.ConnectionString);
        }
    }


    private async Task<int> ServiceConnectionsAsync()
    {
        await using var conn = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(App.ConnectionString) { Pooling = false }.ConnectionString);
        return await conn.ExecuteScalarAsync<int>(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = @ServiceName", new { ServiceName });
    }

    [Fact]
    public void TheCapIs50ByDefault() => Assert.Equal(50, new EventsOptions().WebhookMaxEndpoints);

    [Fact]
    public async Task TheCapsWorthOfWebhooksSharesABoundedNumberOfConnectionsAndOneMoreIs409()
    {
        const string user = "wh-cap";
        var picture = await UploadAsync(App, user);
        var baseline = await ServiceConnectionsAsync();
        Assert.True(baseline > 0, "the service's connections are seen by their application name");

        var admin = App.Admin();
        for (var i = 0; i < Cap; i++)
        {
            await RegisterAsync($"cap{i}");
        }
        var refused = await admin.PostAsJsonAsync("/api/admin/webhooks", new { url = Receiver.Url("one-too-many") });
        Assert.Equal(HttpStatusCode.Conflict, refused.StatusCode);
        Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
        var problem = await refused.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Contains("Events:Webhooks:MaxEndpoints", problem.GetProperty("detail").GetString());
        Assert.Equal(Cap, (await admin.GetFromJsonAsync<JsonElement[]>("/api/admin/webhooks"))!.Length);

        // Every endpoint delivers one event: all their loops have run.
        await RenameAsync(App.ClientFor(user), user, picture.Id, "to every hook");
        var seq = await NewestSeqAsync(App.ConnectionString);
        await Eventually(() => Task.FromResult(Enumerable.Range(0, Cap).All(i => Receiver.AcceptedSeqs($"cap{i}").Contains(seq))),
            $"event {seq} at all {Cap} endpoints");

        // One listening connection plus the loops' few pooled slots, however many endpoints there are.
        var after = await ServiceConnectionsAsync();
        Assert.True(after <= baseline + EventDispatcher.DatabaseSlots + 2,
            $"{Cap} webhooks took the service from {baseline} to {after} connections");
    }
}

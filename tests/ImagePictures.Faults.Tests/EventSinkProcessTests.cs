using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.RegularExpressions;
using ImagePictures.Faults.Tests.Infrastructure;

namespace ImagePictures.Faults.Tests;

/// <summary>
/// The service as a process of its own, over a PostgreSQL that requires a password: webhooks are
/// delivered, and afterwards no /metrics label holds a connection string, the receiver's host, a
/// user id or a token. (A process of its own: in the Api test process the tests' own unnamed
/// Npgsql pools would show up in the labels too.)
/// </summary>
[Trait("Category", "Fault")]
public sealed class EventSinkProcessTests : ChildServiceTest
{
    [Fact]
    public async Task WebhooksAreDeliveredOverAPasswordProtectedDatabaseAndNoMetricsLabelNamesAHostUserOrToken()
    {
        Assert.Contains("Password=", Cluster.ConnectionString);
        var port = FreePort();
        using var receiver = new HttpListener { Prefixes = { $"http://localhost:{port}/" } };
        receiver.Start();
        var bodies = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var receiving = Task.Run(async () =>
        {
            while (receiver.IsListening)
            {
                HttpListenerContext context;
                try { context = await receiver.GetContextAsync(); } catch (Exception) { return; }
                using (var reader = new StreamReader(context.Request.InputStream)) bodies.Enqueue(await reader.ReadToEndAsync());
                context.Response.StatusCode = 200;
                context.Response.Close();
            }
        });

        Child = await ServiceProcess.StartAsync(ServiceProcess.Settings(Cluster.ConnectionString, StorageRoot, new Dictionary<string, string>
        {
            ["Events__PollSeconds"] = "0.5",
            ["Events__Webhooks__AllowPrivateNetworks"] = "true",
        }));
        const string user = "hook-metrics-user";
        var token = Tokens.For(user);
        using var admin = Child.Client(Tokens.Admin());
        var created = await admin.PostAsJsonAsync("/api/admin/webhooks", new { url = $"http://localhost:{port}/hook" });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        using (var client = Child.Client(token))
            Assert.Equal(HttpStatusCode.Created, (await client.PostAsync($"/api/users/{user}/pictures", Service.Form(Service.SmallJpegs(1, 7)[0]))).StatusCode);

        await Eventually(() => bodies.Any(b => b.Contains("PictureUploaded")), "the PictureUploaded delivery at the receiver");

        var metrics = await admin.GetStringAsync("/metrics");
        var labels = Regex.Matches(metrics, "(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"").Select(m => (Key: m.Groups[1].Value, Value: m.Groups[2].Value)).ToList();
        Assert.NotEmpty(labels);
        Assert.Contains(("db_client_connection_pool_name", "pictures"), labels);
        Assert.All(labels.Where(l => l.Key == "db_client_connection_pool_name"), l => Assert.StartsWith("pictures", l.Value));
        Assert.Contains("imagepictures_events_delivered_total{", metrics);
        foreach (var (key, value) in labels)
        {
            Assert.DoesNotContain("Host=", value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("Password", value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("localhost", value, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain(user, value);
            Assert.DoesNotContain(id, value);
            Assert.DoesNotContain(token.Split('.')[2], value);
            Assert.DoesNotContain("eyJ", value);
            Assert.NotEqual(port.ToString(), value);
        }
        foreach (var key in new[] { "dns_question_name", "server_address", "server_port", "network_peer_address" })
            Assert.False(IsClientLine(metrics, key), $"an outgoing call's instrument carries {key}");

        receiver.Stop();
        await receiving;
    }

    /// <summary>Whether an outgoing call's instrument (http_client_*, dns_*) carries the label.</summary>
    private static bool IsClientLine(string metrics, string key) =>
        metrics.Split('\n').Any(line => (line.StartsWith("http_client_") || line.StartsWith("dns_")) && line.Contains(key + "=\""));

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

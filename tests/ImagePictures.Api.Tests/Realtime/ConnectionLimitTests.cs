using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text.Json;
using ImagePictures.Api.Realtime;
using ImagePictures.Api.Tests.Browser;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;

namespace ImagePictures.Api.Tests.Realtime;

/// <summary>
/// Per-user hub limits over real WebSockets on Kestrel: at most Realtime:MaxConnectionsPerUser (20)
/// connections at once (429 on negotiate or connect), and Realtime:MaxWatchedUsers (1,000) watches
/// over all of a user's connections. Nothing stays per user once its connections are gone.
/// </summary>
[Trait("Category", "Api")]
public class ConnectionLimitTests(BrowserApplication app) : IClassFixture<BrowserApplication>
{
    private const int MaxConnections = 20;
    private Uri Base => new(app.BaseUrl);
    private HubConnectionLimits Limits => app.Services.GetRequiredService<HubConnectionLimits>();
    private WatchRegistry Watches => app.Services.GetRequiredService<WatchRegistry>();

    private async Task<RecordingHubConnection> Connect(string user)
    {
        var client = await RecordingHubConnection.ConnectAsync(Base, RealtimeKit.Hub, app.Token(user));
        await client.InvokeAsync("Unwatch", (object)Array.Empty<string>()); // OnConnectedAsync has run
        return client;
    }

    [Fact]
    public async Task TheTwentyFirstConnectionOfAUserIs429OnNegotiateAndOthersAreUnaffected()
    {
        var open = new List<RecordingHubConnection>();
        try
        {
            for (var i = 0; i < MaxConnections; i++) open.Add(await Connect("limit-lea"));
            Assert.Equal(MaxConnections, Limits.OpenCount("user:limit-lea"));

            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => Connect("limit-lea"));
            Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
            // The client keeps only the status; the body of the refused negotiate says why.
            using (var http = new HttpClient())
            using (var negotiate = new HttpRequestMessage(HttpMethod.Post, new Uri(Base, RealtimeKit.Hub + "/negotiate?negotiateVersion=1")))
            {
                negotiate.Headers.Authorization = new AuthenticationHeaderValue("Bearer", app.Token("limit-lea"));
                var answer = await http.SendAsync(negotiate);
                Assert.Equal(HttpStatusCode.TooManyRequests, answer.StatusCode);
                Assert.Contains("20 hub connections", await answer.Content.ReadAsStringAsync());
            }

            // Another user is not affected, and a closed connection frees its place.
            await using (var other = await Connect("limit-other")) Assert.False(other.Closed.IsCompleted);
            await open[0].DisposeAsync();
            open.RemoveAt(0);
            await Eventually(() => Limits.OpenCount("user:limit-lea") == MaxConnections - 1, "the closed connection's place was not given back");
            open.Add(await Connect("limit-lea"));
        }
        finally
        {
            foreach (var client in open) await client.DisposeAsync();
        }
        await Eventually(() => Limits.OpenCount("user:limit-lea") == 0, "places stayed taken after every connection closed");
    }

    [Fact]
    public async Task AWebSocketConnectBeyondTheLimitIs429EvenAfterASuccessfulNegotiate()
    {
        var token = app.Token("limit-ray");
        // Negotiate while there is room …
        using var http = new HttpClient();
        using var negotiate = new HttpRequestMessage(HttpMethod.Post, new Uri(Base, RealtimeKit.Hub + "/negotiate?negotiateVersion=1"));
        negotiate.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var answer = await http.SendAsync(negotiate);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var connectionToken = (await JsonSerializer.DeserializeAsync<JsonElement>(await answer.Content.ReadAsStreamAsync())).GetProperty("connectionToken").GetString()!;

        var open = new List<RecordingHubConnection>();
        try
        {
            // … then fill every place, and only then open the socket.
            for (var i = 0; i < MaxConnections; i++) open.Add(await Connect("limit-ray"));
            using var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            var url = new Uri($"{app.BaseUrl.Replace("http://", "ws://")}{RealtimeKit.Hub}?id={Uri.EscapeDataString(connectionToken)}&access_token={Uri.EscapeDataString(token)}");
            await Assert.ThrowsAnyAsync<WebSocketException>(() => socket.ConnectAsync(url, default));
            Assert.Equal(HttpStatusCode.TooManyRequests, socket.HttpStatusCode);
        }
        finally
        {
            foreach (var client in open) await client.DisposeAsync();
        }
    }

    private static bool RefusedOnConnect(Exception e) =>
        e.InnerException is WebSocketException w && w.Message.Contains("'429'");

    [Fact]
    public async Task ConnectsRacingPastNegotiateCannotExceedTheLimit()
    {
        var attempts = Enumerable.Range(0, MaxConnections + 6).Select(async _ =>
        {
            try
            {
                var client = await RecordingHubConnection.ConnectAsync(Base, RealtimeKit.Hub, app.Token("limit-rush"));
                try { await client.InvokeAsync("Unwatch", (object)Array.Empty<string>()); return client; }
                catch (Exception) { await client.DisposeAsync(); return null; } // refused in OnConnectedAsync: closed with an error
            }
            catch (HttpRequestException e) when (e.StatusCode == HttpStatusCode.TooManyRequests) { return null; } // refused on negotiate
            catch (AggregateException e) when (e.InnerExceptions.Any(RefusedOnConnect)) { return null; } // past negotiate, refused on connect
        }).ToArray();
        var clients = (await Task.WhenAll(attempts)).Where(c => c is not null).Cast<RecordingHubConnection>().ToList();
        try
        {
            // A refused connection's close arrives after its handshake: wait for the closes, not for a time.
            await Eventually(() => clients.Count(c => !c.Closed.IsCompleted) <= MaxConnections,
                $"{clients.Count(c => !c.Closed.IsCompleted)} connections of one user stayed open");
            Assert.True(Limits.OpenCount("user:limit-rush") <= MaxConnections);
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
        }
        await Eventually(() => Limits.OpenCount("user:limit-rush") == 0, "places stayed taken after every connection closed");
    }

    [Fact]
    public async Task TheWatchLimitCountsAcrossAllOfAUsersConnections()
    {
        var ids = Enumerable.Range(0, 1200).Select(i => $"w{i}").ToArray();
        await using var first = await Connect("limit-wanda");
        await using var second = await Connect("limit-wanda");
        await first.Watch(ids[..600]);
        var over = await Assert.ThrowsAsync<HubException>(() => second.Watch(ids[600..1001]));
        Assert.Contains("over all of its connections", over.Message);
        await second.Watch(ids[600..1000]); // exactly 1,000 over both
        Assert.Equal(1000, Watches.CountForUser("limit-wanda"));
        await Assert.ThrowsAsync<HubException>(() => second.Watch(ids[0])); // the same id on another connection counts again

        // Another user has a budget of its own.
        await using (var other = await Connect("limit-otto")) await other.Watch(ids[..1000]);

        await first.DisposeAsync(); // its 600 watches are given back
        await Eventually(() => Watches.CountForUser("limit-wanda") == 400, "the closed connection's watches still count");
        await second.Watch(ids[1000..1200]);
        await second.Watch(ids[..400]);
        Assert.Equal(1000, Watches.CountForUser("limit-wanda"));
        await second.DisposeAsync();
        await Eventually(() => Watches.CountForUser("limit-wanda") == 0 && Watches.CountForUser("limit-otto") == 0, "watches stayed after the connections closed");
    }
}

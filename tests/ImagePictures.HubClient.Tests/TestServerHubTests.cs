using System.Text.Json;
using BareHub;
using Microsoft.AspNetCore.TestHost;

namespace ImagePictures.HubClient.Tests;

public sealed class TestServerHubTests : IClassFixture<BareHubFactory>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly BareHubFactory _factory;

    public TestServerHubTests(BareHubFactory factory) => _factory = factory;

    private TestServer Server => _factory.Server;

    private Task<HubTestClient> ConnectAsync(string? token = null)
        => HubTestClient.ConnectAsync(Server, BareHubApp.HubPath, token);

    private async Task BroadcastAsync(string userId, int count = 1)
    {
        using var http = _factory.CreateClient();
        var resp = await http.PostAsync($"/broadcast/{userId}?count={count}", null);
        resp.EnsureSuccessStatusCode();
    }

    [Fact]
    public async Task Connects_and_gets_a_connection_id()
    {
        await using var client = await ConnectAsync();
        Assert.False(string.IsNullOrEmpty(client.ConnectionId));
        Assert.False(client.Closed.IsCompleted);
    }

    [Fact]
    public async Task Access_token_is_accepted_as_query_parameter()
    {
        await using var client = await ConnectAsync(token: "some.jwt.token");
        var echo = await client.InvokeAsync("Echo", "hi");
        Assert.Equal("hi", echo!.Value.GetString());
    }

    [Fact]
    public async Task Invoke_returns_result()
    {
        await using var client = await ConnectAsync();
        var result = await client.InvokeAsync("Echo", "hello");
        Assert.NotNull(result);
        Assert.Equal("hello", result.Value.GetString());
    }

    [Fact]
    public async Task Invoke_of_void_method_returns_null()
    {
        await using var client = await ConnectAsync();
        var result = await client.InvokeAsync("Watch", new object[] { new[] { "nobody" } });
        Assert.Null(result);
    }

    [Fact]
    public async Task Watch_then_broadcast_delivers_ActivePictureChanged()
    {
        await using var client = await ConnectAsync();
        await client.InvokeAsync("Watch", new object[] { new[] { "alice" } });

        await BroadcastAsync("alice");

        var msg = await client.NextAsync("ActivePictureChanged", Wait);
        Assert.Equal("ActivePictureChanged", msg.Target);
        var evt = Assert.Single(msg.Arguments);
        Assert.Equal("alice", evt.GetProperty("userId").GetString());
        Assert.Equal("ActivePictureChanged", evt.GetProperty("type").GetString());
        Assert.True(evt.GetProperty("seq").GetInt64() > 0);
        Assert.True(evt.TryGetProperty("pictureId", out _));
        Assert.True(evt.TryGetProperty("occurredAt", out _));
        Assert.Equal(JsonValueKind.Null, evt.GetProperty("picture").ValueKind);
        Assert.Contains(msg, client.Received);
    }

    [Fact]
    public async Task Messages_are_buffered_per_target_in_arrival_order()
    {
        await using var client = await ConnectAsync();
        await client.InvokeAsync("Watch", new object[] { new[] { "bob" } });

        await BroadcastAsync("bob", count: 5);

        var seqs = new List<long>();
        for (var i = 0; i < 5; i++)
            seqs.Add((await client.NextAsync("ActivePictureChanged", Wait)).Arguments[0].GetProperty("seq").GetInt64());
        Assert.Equal(seqs.OrderBy(s => s), seqs);
        Assert.Equal(5, seqs.Distinct().Count());
        await Assert.ThrowsAsync<TimeoutException>(() => client.NextAsync("ActivePictureChanged", TimeSpan.FromMilliseconds(200)));
    }

    [Fact]
    public async Task Other_users_broadcasts_do_not_arrive()
    {
        await using var client = await ConnectAsync();
        await client.InvokeAsync("Watch", new object[] { new[] { "carol" } });

        await BroadcastAsync("dave");

        Assert.True(await client.NothingArrivesAsync(TimeSpan.FromMilliseconds(500)));
    }

    [Fact]
    public async Task Unwatch_stops_delivery()
    {
        await using var client = await ConnectAsync();
        await client.InvokeAsync("Watch", new object[] { new[] { "erin" } });
        await BroadcastAsync("erin");
        await client.NextAsync("ActivePictureChanged", Wait);

        await client.InvokeAsync("Unwatch", new object[] { new[] { "erin" } });
        var nothing = client.NothingArrivesAsync(TimeSpan.FromMilliseconds(500));
        await BroadcastAsync("erin");

        Assert.True(await nothing);
    }

    [Fact]
    public async Task NothingArrives_is_false_when_something_arrives()
    {
        await using var client = await ConnectAsync();
        await client.InvokeAsync("Watch", new object[] { new[] { "frank" } });
        var nothing = client.NothingArrivesAsync(TimeSpan.FromSeconds(5));
        await BroadcastAsync("frank");
        Assert.False(await nothing);
    }

    [Fact]
    public async Task OnMessage_is_raised()
    {
        await using var client = await ConnectAsync();
        var seen = new TaskCompletionSource<HubMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        client.OnMessage += m => seen.TrySetResult(m);
        await client.InvokeAsync("Watch", new object[] { new[] { "gina" } });
        await BroadcastAsync("gina");
        var msg = await seen.Task.WaitAsync(Wait);
        Assert.Equal("gina", msg.Arguments[0].GetProperty("userId").GetString());
    }

    [Fact]
    public async Task Unknown_method_throws_HubInvocationException()
    {
        await using var client = await ConnectAsync();
        var ex = await Assert.ThrowsAsync<HubInvocationException>(() => client.InvokeAsync("NoSuchMethod", 1));
        Assert.Contains("NoSuchMethod", ex.Message);
        // The connection survives a failed invocation.
        Assert.Equal("still", (await client.InvokeAsync("Echo", "still"))!.Value.GetString());
    }

    [Fact]
    public async Task Wrong_argument_count_throws_HubInvocationException()
    {
        await using var client = await ConnectAsync();
        await Assert.ThrowsAsync<HubInvocationException>(() => client.InvokeAsync("Echo"));
    }

    [Fact]
    public async Task Negotiate_on_unknown_path_throws_HubConnectException_with_status()
    {
        var ex = await Assert.ThrowsAsync<HubConnectException>(
            () => HubTestClient.ConnectAsync(Server, "/hubs/nope", null));
        Assert.Equal(404, ex.StatusCode);
    }

    [Fact]
    public async Task Closed_completes_when_client_disposes()
    {
        var client = await ConnectAsync();
        Assert.False(client.Closed.IsCompleted);
        await client.DisposeAsync();
        await client.Closed.WaitAsync(Wait);
        Assert.Null(client.CloseError);
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.InvokeAsync("Echo", "x"));
    }

    [Fact]
    public async Task Closed_completes_when_server_stops()
    {
        // Own factory: stopping it must not disturb the shared fixture.
        var factory = new BareHubFactory();
        var client = await HubTestClient.ConnectAsync(factory.Server, BareHubApp.HubPath, null);
        await using (client)
        {
            Assert.False(client.Closed.IsCompleted);
            await factory.DisposeAsync();
            await client.Closed.WaitAsync(Wait);
            await Assert.ThrowsAsync<TimeoutException>(() => client.NextAsync("ActivePictureChanged", TimeSpan.FromSeconds(1)));
        }
    }
}

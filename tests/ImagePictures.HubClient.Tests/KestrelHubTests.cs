using BareHub;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace ImagePictures.HubClient.Tests;

/// <summary>BareHub on a real Kestrel socket (127.0.0.1, ephemeral port) and a real ClientWebSocket.</summary>
public sealed class KestrelHubTests : IAsyncLifetime
{
    private WebApplication _app = null!;
    private Uri _baseUri = null!;

    public async Task InitializeAsync()
    {
        _app = BareHubApp.Build([], b => b.WebHost.UseUrls("http://127.0.0.1:0"));
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _baseUri = new Uri(address);
    }

    public async Task DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    [Fact]
    public async Task Watch_broadcast_receive_over_a_real_socket()
    {
        await using var client = await HubTestClient.ConnectAsync(_baseUri, BareHubApp.HubPath, accessToken: "t0k3n",
            origin: "http://localhost:5173");
        await client.InvokeAsync("Watch", new object[] { new[] { "alice" } });

        using var http = new HttpClient { BaseAddress = _baseUri };
        (await http.PostAsync("/broadcast/alice", null)).EnsureSuccessStatusCode();

        var msg = await client.NextAsync("ActivePictureChanged", TimeSpan.FromSeconds(10));
        Assert.Equal("alice", msg.Arguments[0].GetProperty("userId").GetString());

        await client.InvokeAsync("Unwatch", new object[] { new[] { "alice" } });
        var nothing = client.NothingArrivesAsync(TimeSpan.FromMilliseconds(500));
        (await http.PostAsync("/broadcast/alice", null)).EnsureSuccessStatusCode();
        Assert.True(await nothing);
    }

    [Fact]
    public async Task Closed_completes_when_kestrel_stops()
    {
        var client = await HubTestClient.ConnectAsync(_baseUri, BareHubApp.HubPath, null);
        await using (client)
        {
            await _app.StopAsync();
            await client.Closed.WaitAsync(TimeSpan.FromSeconds(10));
        }
    }

    [Fact]
    public async Task Unknown_hub_path_gives_404()
    {
        var ex = await Assert.ThrowsAsync<HubConnectException>(
            () => HubTestClient.ConnectAsync(_baseUri, "/hubs/nope", null));
        Assert.Equal(404, ex.StatusCode);
    }
}

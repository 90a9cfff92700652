using BareHub;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.DependencyInjection;

namespace ImagePictures.HubClient.Tests;

/// <summary>
/// Server ClientTimeoutInterval shortened to 2 s, server KeepAliveInterval 1 s. Note: in a trial, a client that sent
/// nothing was NOT dropped by the server within 6 s, so this does not prove the client pings are what keeps it open.
/// HubTestClient.KeepAliveInterval is static, so these tests run in one
/// non-parallel collection; other classes seeing a different interval meanwhile is harmless.
/// </summary>
[CollectionDefinition(nameof(KeepAliveTests), DisableParallelization = true)]
public sealed class KeepAliveCollection { }

[Collection(nameof(KeepAliveTests))]
public sealed class KeepAliveTests : IAsyncLifetime
{
    private WebApplication _app = null!;
    private Uri _baseUri = null!;

    public async Task InitializeAsync()
    {
        _app = BareHubApp.Build([], b =>
        {
            b.WebHost.UseUrls("http://127.0.0.1:0");
            b.Services.Configure<HubOptions>(o =>
            {
                o.ClientTimeoutInterval = TimeSpan.FromSeconds(2);
                o.KeepAliveInterval = TimeSpan.FromSeconds(1);
            });
        });
        await _app.StartAsync();
        _baseUri = new Uri(_app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();

    [Fact]
    public async Task Quiet_connection_stays_open_and_server_pings_are_consumed()
    {
        var saved = HubTestClient.KeepAliveInterval;
        HubTestClient.KeepAliveInterval = TimeSpan.FromMilliseconds(500);
        try
        {
            await using var client = await HubTestClient.ConnectAsync(_baseUri, BareHubApp.HubPath, null);
            await Task.Delay(TimeSpan.FromSeconds(4));
            Assert.False(client.Closed.IsCompleted, client.CloseError);
            Assert.True(client.PingsReceived > 0, "server KeepAliveInterval is 1 s, so pings should have arrived");
            Assert.Empty(client.Received); // pings are not invocations
            Assert.Equal("alive", (await client.InvokeAsync("Echo", "alive"))!.Value.GetString());
        }
        finally
        {
            HubTestClient.KeepAliveInterval = saved;
        }
    }
}

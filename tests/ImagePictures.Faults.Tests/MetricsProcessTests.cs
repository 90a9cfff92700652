using System.Net;
using ImagePictures.Faults.Tests.Infrastructure;

namespace ImagePictures.Faults.Tests;

/// <summary>
/// /metrics of a service process of its own carries ASP.NET Core's and Npgsql's instruments beside
/// ours. (Inside the Api test process other hosts dispose same-named ASP.NET Core meters, which stops
/// OpenTelemetry exporting them, so this is checked here.)
/// </summary>
public sealed class MetricsProcessTests : ChildServiceTest
{
    [Fact]
    public async Task MetricsCarryAspNetCoreAndNpgsqlInstruments()
    {
        Child = await ServiceProcess.StartAsync(ServiceProcess.Settings(Cluster.ConnectionString, StorageRoot));
        using var client = Child.Client(Tokens.For("metrics-process"));
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/users/me/pictures")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/avatars/metrics-process")).StatusCode);

        var metrics = await client.GetStringAsync("/metrics");
        Assert.Contains("aspnetcore_routing_match_attempts_total", metrics);
        Assert.Contains("http_server_request_duration_seconds_count", metrics);
        Assert.Contains("db_client_connection_pool_name=\"pictures\"", metrics);
        Assert.Contains("imagepictures_avatar_requests_total", metrics);
    }
}

using ImagePictures.Api.Database;

namespace ImagePictures.Testing;

/// <summary>
/// One private PostgreSQL per test process (a database per test host inside it). Stopped when the
/// process exits; scripts/test.sh's trap stops it too if the process dies. A test that stops and starts
/// PostgreSQL takes a cluster of its own instead (<see cref="StartOwnAsync"/>, in TestCluster.Own.cs).
/// Like a production server, both require a password (scram-sha-256), and the service connects as a
/// role that is no superuser.
/// </summary>
public sealed partial class TestCluster
{
    private static readonly Lazy<PrivatePostgres> Cluster = new(() =>
    {
        var root = Environment.GetEnvironmentVariable("IMAGEPICTURES_TEST_ROOT") ?? "/tmp";
        var dir = Path.Combine(root, $"pg-api-{Environment.ProcessId}-{Guid.NewGuid():N}"[..24]);
        var cluster = PrivatePostgres.Start(dir, durable: false, login: new("svc", $"pw-{Guid.NewGuid():N}"));
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            cluster.Stop();
            try { Directory.Delete(dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return cluster;
    });

    public static PrivatePostgres Instance => Cluster.Value;

    public static Task<string> NewDatabaseAsync() => Instance.CreateDatabaseAsync($"t_{Guid.NewGuid():N}");
}

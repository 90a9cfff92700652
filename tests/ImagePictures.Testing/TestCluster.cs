using ImagePictures.Api.Database;
using Npgsql;

namespace ImagePictures.Testing;

/// <summary>
/// A private PostgreSQL under IMAGEPICTURES_TEST_ROOT. <see cref="Instance"/> is the one shared by a
/// test process (a database per test host inside it), stopped when the process exits; a test that
/// stops and starts PostgreSQL (an outage) takes a cluster of its own from <see cref="StartOwnAsync"/>.
/// scripts/test.sh's trap stops any that a dead process left running.
/// </summary>
public sealed class TestCluster : IAsyncDisposable
{
    private static readonly Lazy<PrivatePostgres> Cluster = new(() =>
    {
        var root = Environment.GetEnvironmentVariable("IMAGEPICTURES_TEST_ROOT") ?? "/tmp";
        var dir = Path.Combine(root, $"pg-api-{Environment.ProcessId}-{Guid.NewGuid():N}"[..24]);
        var cluster = PrivatePostgres.Start(dir, durable: false);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            cluster.Stop();
            try { Directory.Delete(dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        };
        return cluster;
    });

    public static PrivatePostgres Instance => Cluster.Value;

    public static Task<string> NewDatabaseAsync() => Instance.CreateDatabaseAsync($"t_{Guid.NewGuid():N}");

    public string DataDirectory { get; } = Path.Combine(TestPaths.Root, $"pg-own-{Guid.NewGuid():N}"[..19]);
    public PrivatePostgres Postgres { get; private set; } = null!;
    public string ConnectionString { get; private set; } = "";

    private TestCluster() { }

    /// <summary>A cluster of the caller's own with one database; always stop it with DisposeAsync.</summary>
    public static async Task<TestCluster> StartOwnAsync(string database = "faults")
    {
        var own = new TestCluster();
        try
        {
            own.Postgres = PrivatePostgres.Start(own.DataDirectory, durable: false);
            own.ConnectionString = await own.Postgres.CreateDatabaseAsync(database);
            return own;
        }
        catch
        {
            await own.DisposeAsync();
            throw;
        }
    }

    /// <summary>Stops the server (fast shutdown: sessions are terminated, as in a real outage).</summary>
    public void Stop() => Postgres.Stop();

    /// <summary>Starts the server again on the same data folder and socket.</summary>
    public void Start() => Postgres = PrivatePostgres.Start(DataDirectory, durable: false);

    public NpgsqlConnection Open()
    {
        var conn = new NpgsqlConnection(ConnectionString);
        conn.Open();
        return conn;
    }

    public ValueTask DisposeAsync()
    {
        try
        {
            NpgsqlConnection.ClearAllPools();
            Postgres?.Stop();
        }
        finally { TestPaths.DeleteQuietly(DataDirectory); }
        return ValueTask.CompletedTask;
    }
}

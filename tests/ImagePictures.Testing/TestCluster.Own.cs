using ImagePictures.Api.Database;
using Npgsql;

namespace ImagePictures.Testing;

/// <summary>
/// A private PostgreSQL of the test's own (an outage test stops and starts it), with one database.
/// Always stopped and removed in DisposeAsync, even when the test failed. It requires a password
/// (scram-sha-256) of the role the service connects as, as a production server does.
/// </summary>
public sealed partial class TestCluster : IAsyncDisposable
{
    public string DataDirectory { get; } = Path.Combine(TestPaths.Root, $"pg-faults-{Guid.NewGuid():N}"[..22]);
    public PrivatePostgres Postgres { get; private set; } = null!;
    public string ConnectionString { get; private set; } = "";
    private readonly PrivatePostgres.PasswordLogin _login = new("svc", $"pw-{Guid.NewGuid():N}");

    private TestCluster() { }

    /// <summary>Starts a cluster of the caller's own with one database.</summary>
    public static async Task<TestCluster> StartOwnAsync(string database = "faults")
    {
        var own = new TestCluster();
        try
        {
            own.Postgres = PrivatePostgres.Start(own.DataDirectory, durable: false, login: own._login);
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
    public void Start() => Postgres = PrivatePostgres.Start(DataDirectory, durable: false, login: _login);

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

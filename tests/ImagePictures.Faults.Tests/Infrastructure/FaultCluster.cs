using ImagePictures.Api.Database;
using Npgsql;

namespace ImagePictures.Faults.Tests.Infrastructure;

/// <summary>
/// A private PostgreSQL of the test's own (the outage test stops and starts it), with one database.
/// Always stopped and removed in DisposeAsync, even when the test failed.
/// </summary>
public sealed class FaultCluster : IAsyncLifetime
{
    public string DataDirectory { get; } = Path.Combine(TestPaths.Root, $"pg-faults-{Guid.NewGuid():N}"[..22]);
    public PrivatePostgres Postgres { get; private set; } = null!;
    public string ConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        Postgres = PrivatePostgres.Start(DataDirectory, durable: false);
        ConnectionString = await Postgres.CreateDatabaseAsync("faults");
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

    public Task DisposeAsync()
    {
        try
        {
            NpgsqlConnection.ClearAllPools();
            Postgres?.Stop();
        }
        finally { TestPaths.DeleteQuietly(DataDirectory); }
        return Task.CompletedTask;
    }
}

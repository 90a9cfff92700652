using ImagePictures.Api.Database;
using Npgsql;

namespace ImagePictures.Faults.Tests.Infrastructure;

/// <summary>
/// A private PostgreSQL of the test's own (the outage test stops and starts it), with one database.
/// Always stopped and removed in DisposeAsync, even when the test failed. It requires a password
/// (scram-sha-256) of the role the service connects as, as a production server does.
/// </summary>
public sealed class FaultCluster : IAsyncLifetime
{
    public string DataDirectory { get; } = Path.Combine(TestPaths.Root, $"pg-faults-{Guid.NewGuid():N}"[..22]);
    public PrivatePostgres Postgres { get; private set; } = null!;
    public string ConnectionString { get; private set; } = "";
    private readonly PrivatePostgres.PasswordLogin _login = new("svc", $"pw-{Guid.NewGuid():N}");

    public async Task InitializeAsync()
    {
        Postgres = PrivatePostgres.Start(DataDirectory, durable: false, login: _login);
        ConnectionString = await Postgres.CreateDatabaseAsync("faults");
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

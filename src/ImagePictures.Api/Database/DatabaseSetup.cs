using ImagePictures.Api.Hosting;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ImagePictures.Api.Database;

public static class DatabaseSetup
{
    /// <summary>
    /// One NpgsqlDataSource for the process. Without ConnectionStrings:Pictures the service starts
    /// its own PostgreSQL under .data/ and stops it when the host stops. Everything is read when
    /// the data source is first resolved, so settings given by a test host apply too.
    /// </summary>
    public static void AddPicturesDatabase(this WebApplicationBuilder builder)
    {
        Dapper.DefaultTypeMap.MatchNamesWithUnderscores = true;
        builder.Services.AddSettings<PrivatePostgresOptions>(PrivatePostgresOptions.Section);
        builder.Services.AddSingleton<PrivatePostgresLifetime>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<PrivatePostgresLifetime>());
        builder.Services.AddSingleton(sp =>
        {
            var config = sp.GetRequiredService<IConfiguration>();
            var connectionString = config.GetConnectionString("Pictures");
            if (string.IsNullOrWhiteSpace(connectionString))
                connectionString = sp.GetRequiredService<PrivatePostgresLifetime>().Start(config, sp.GetRequiredService<IOptions<PrivatePostgresOptions>>().Value);
            // Named, so that metrics and traces label the pool "pictures" rather than with its connection string.
            return new NpgsqlDataSourceBuilder(WithTimeouts(connectionString)) { Name = "pictures" }.Build();
        });
        builder.Services.AddSingleton<Migrator>();
    }

    /// <summary>Deliberate timeouts: during a database outage a request fails fast (503) instead of hanging.</summary>
    private static string WithTimeouts(string connectionString)
    {
        var csb = new NpgsqlConnectionStringBuilder(connectionString);
        if (!connectionString.Contains("Timeout", StringComparison.OrdinalIgnoreCase)) csb.Timeout = 3;
        if (!connectionString.Contains("Command Timeout", StringComparison.OrdinalIgnoreCase)) csb.CommandTimeout = 8; // under the 10 s in which every request must be answered, even by a hung database
        if (!connectionString.Contains("Maximum Pool Size", StringComparison.OrdinalIgnoreCase)) csb.MaxPoolSize = 50;
        return csb.ConnectionString;
    }

    public sealed class PrivatePostgresLifetime(ILogger<PrivatePostgresLifetime> log) : IHostedService
    {
        private PrivatePostgres? _cluster;

        public string Start(IConfiguration config, PrivatePostgresOptions options)
        {
            var dataDir = RepositoryRoot.Resolve(config, options.DataDirectory);
            _cluster = PrivatePostgres.Start(dataDir, durable: true, m => log.LogInformation("{Message}", m));
            return _cluster.CreateDatabaseAsync("imagepictures").GetAwaiter().GetResult();
        }

        public Task StartAsync(CancellationToken ct) => Task.CompletedTask;

        public async Task StopAsync(CancellationToken ct)
        {
            if (_cluster is not null) await _cluster.DisposeAsync();
        }
    }
}

using System.Net.Http.Headers;
using ImagePictures.Api.Auth;
using ImagePictures.Api.Hosting;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace ImagePictures.Api.Tests.Infrastructure;

/// <summary>
/// The real service over a fresh database in the shared private PostgreSQL and a fresh storage
/// root on disk (or, after <see cref="UseS3"/>, a fresh bucket of the shared private Ceph gateway),
/// driven through real HTTP in the test host.
/// </summary>
public class PicturesApplication : WebApplicationFactory<Program>, IAsyncLifetime
{
    private readonly Dictionary<string, string?> _settings = new();
    public string StorageRoot { get; init; } = Path.Combine(Path.GetTempPath(), $"ip-storage-{Guid.NewGuid():N}");
    public string ConnectionString { get; private set; } = "";

    /// <summary>
    /// Set (with <see cref="StorageRoot"/>) to run a second instance of the service on another host's
    /// database and storage, as a cluster does. The host that created them cleans up.
    /// </summary>
    public string? SharedConnectionString { get; init; }

    public PicturesApplication()
    {
        // Every host runs a Hangfire server: it stops within a second or two, and polls often enough that a test never waits long.
        With("Jobs:Hangfire:ShutdownTimeout", "00:00:02");
        With("Jobs:Hangfire:SchedulePollingInterval", "00:00:01");
        With("Jobs:Hangfire:QueuePollInterval", "00:00:01");
    }

    public PicturesApplication With(string key, string? value) { _settings[key] = value; return this; }

    /// <summary>Stores pictures in a new bucket of the test gateway, under a key prefix, instead of on disk.</summary>
    public PicturesApplication UseS3() { _useS3 = true; return this; }
    private bool _useS3;

    public string Provider => _useS3 ? "S3" : "FileSystem";

    /// <summary>What the store holds, seen from outside the service.</summary>
    public StorageView Stored { get; private set; } = null!;

    public override string ToString() => Provider;

    /// <summary>
    /// Waits until this host's event relay has delivered every event recorded so far. The relay also
    /// applies each event to the image routes' caches (an invalidation, even for this instance's own
    /// changes), so a test that counts cache lookups waits for it first: else a late invalidation lands
    /// in what it counts.
    /// </summary>
    public async Task RelayCaughtUpAsync()
    {
        var relay = Services.GetRequiredService<ImagePictures.Api.Realtime.EventRelay>();
        await using var conn = new Npgsql.NpgsqlConnection(ConnectionString);
        var events = await Dapper.SqlMapper.ExecuteScalarAsync<long>(conn, "SELECT count(*) FROM events");
        await Eventually(() => relay.DeliveredCount >= events, "the relay delivered every event recorded so far");
    }

    public virtual async Task InitializeAsync()
    {
        ConnectionString = SharedConnectionString ?? await TestCluster.NewDatabaseAsync();
        Directory.CreateDirectory(Path.Combine(StorageRoot, "default"));
        // Copied under a name of its own and renamed: two hosts sharing one storage root start at once.
        var copy = Path.Combine(StorageRoot, "default", $".default-{Guid.NewGuid():N}.png");
        File.Copy(Path.Combine(RepositoryRoot.Find(), "images", "default", "default.png"), copy);
        File.Move(copy, Path.Combine(StorageRoot, "default", "default.png"), overwrite: true);
        Stored = new FileSystemView(StorageRoot);
        if (_useS3)
        {
            const string prefix = "pictures/";
            var bucket = await TestGateway.Instance.CreateBucketAsync("ip-test");
            foreach (var (key, value) in TestGateway.Instance.Settings(bucket, prefix)) _settings.TryAdd(key, value);
            Stored = new S3View(TestGateway.Instance.Client(), bucket, prefix);
        }
        StartHost();
    }

    /// <summary>Starts the host now, so that migrations run before the first test.</summary>
    protected virtual void StartHost() => _ = Server;

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Development");
        builder.UseSetting("ConnectionStrings:Pictures", ConnectionString);
        builder.UseSetting("Storage:Root", StorageRoot);
        foreach (var (key, value) in _settings) builder.UseSetting(key, value);
    }

    public string Token(string userId, string[]? roles = null, string[]? scopes = null, TimeSpan? lifetime = null) =>
        Services.GetRequiredService<DevTokens>().Create(userId, roles, scopes, lifetime).Token;

    public HttpClient ClientFor(string userId, string[]? roles = null, string[]? scopes = null) => ClientWithToken(Token(userId, roles, scopes));

    public HttpClient Admin() => ClientFor("root-admin", roles: ["admin"]);
    public HttpClient Provisioner() => ClientFor("signup-service", scopes: ["pictures:provision"]);

    public HttpClient ClientWithToken(string? token)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    public string UserFolder(string userId) => Path.Combine(StorageRoot, "users", userId);

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        if (SharedConnectionString is not null) return;
        try { Directory.Delete(StorageRoot, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>The same service with its pictures in a bucket of the test gateway.</summary>
public sealed class S3PicturesApplication : PicturesApplication
{
    public S3PicturesApplication() => UseS3();
}

using System.Net.Sockets;
using ImagePictures.Api.Database;

namespace ImagePictures.Benchmarks.Harness;

/// <summary>
/// What every section shares: the options, a temporary work folder, the private PostgreSQL, the test
/// images, the service (started once; the zipf section restarts it) and the 64 px avatar it serves.
/// Everything started here is registered with <see cref="Cleanup"/>.
/// </summary>
public sealed class BenchContext
{
    /// <summary>When the run started (the wrapper's start, so that the log's seconds count setup and build too).</summary>
    public static DateTimeOffset StartedAt { get; set; } = DateTimeOffset.UtcNow;

    private BenchContext(BenchOptions options, Cleanup cleanup, string repo, string work)
    {
        Options = options;
        Cleanup = cleanup;
        Repo = repo;
        Work = work;
    }

    public BenchOptions Options { get; }
    public Cleanup Cleanup { get; }
    public string Repo { get; }
    public string Work { get; }
    public string PgDir => Path.Combine(Work, "pg");
    public string Conn { get; private set; } = "";
    public string BigJpeg => Path.Combine(Work, "12mp.jpg");
    public string SmallJpeg => Path.Combine(Work, "small.jpg");
    public double JpegMb { get; private set; }
    public string Storage => Path.Combine(Work, "storage");
    public ServiceProcess Service { get; private set; } = null!;
    public string ServiceUrl => Service.BaseAddress.ToString().TrimEnd('/');
    public string AvatarFile => Path.Combine(Work, "avatar64");
    public Drivers.AvatarSeed Avatar { get; private set; } = null!;
    public string BenchmarkDll => typeof(BenchContext).Assembly.Location;
    public static double Elapsed => (DateTimeOffset.UtcNow - StartedAt).TotalSeconds;

    public static void Log(string message) => Console.Error.WriteLine($"[bench {(int)Elapsed,4}s] {message}");

    /// <summary>PostgreSQL (with pg_stat_statements), the test images, the service and its avatar.</summary>
    public static async Task<BenchContext> StartAsync(BenchOptions options, Cleanup cleanup, string repo)
    {
        var work = Directory.CreateTempSubdirectory("imagepictures-bench.").FullName;
        File.SetUnixFileMode(work, (UnixFileMode)0b111_101_101); // nginx's worker user reads the avatar
        var keep = Environment.GetEnvironmentVariable("BENCH_KEEP") is { Length: > 0 };
        cleanup.Add("the work folder", () =>
        {
            if (keep) Log($"kept {work}");
            else try { Directory.Delete(work, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        });
        // The linked test launchers (the broker) put their folders under IMAGEPICTURES_TEST_ROOT.
        Environment.SetEnvironmentVariable("IMAGEPICTURES_TEST_ROOT", work);
        var ctx = new BenchContext(options, cleanup, repo, work);

        Log("starting a private PostgreSQL");
        var pg = PrivatePostgres.Start(ctx.PgDir, durable: true, m => Console.Error.WriteLine("pg: " + m));
        cleanup.Add("PostgreSQL", () => StopPostgres(ctx.PgDir));
        // Restarted with pg_stat_statements, so that the million-user run can count statements too.
        pg.Stop();
        File.AppendAllText(Path.Combine(ctx.PgDir, "postgresql.conf"), "\nshared_preload_libraries = 'pg_stat_statements'\n");
        pg = PrivatePostgres.Start(ctx.PgDir, durable: true, m => Console.Error.WriteLine("pg: " + m));
        ctx.Conn = await pg.CreateDatabaseAsync("imagepictures");
        await using (var db = new Npgsql.NpgsqlConnection(ctx.Conn))
        {
            await db.OpenAsync();
            await using var create = new Npgsql.NpgsqlCommand("CREATE EXTENSION IF NOT EXISTS pg_stat_statements", db);
            await create.ExecuteNonQueryAsync();
        }

        ctx.JpegMb = Drivers.GenJpeg(ctx.BigJpeg, ctx.SmallJpeg) / 1048576.0;
        TestPaths.NewStorageRoot(ctx.Storage);
        await ctx.StartServiceAsync();
        // The avatar that serving and the million-user run use: a 64 px WebP, also given to nginx as a static file.
        ctx.Avatar = await Drivers.SeedAvatarAsync(ctx.ServiceUrl, ctx.SmallJpeg, ctx.AvatarFile);
        return ctx;
    }

    /// <summary>Another database in the running cluster (Start on a running cluster only attaches to it).</summary>
    public Task<string> CreateDatabaseAsync(string name) => PrivatePostgres.Start(PgDir, durable: true).CreateDatabaseAsync(name);

    private static void StopPostgres(string dataDir)
    {
        if (File.Exists(Path.Combine(dataDir, "postmaster.pid"))) PrivatePostgres.Start(dataDir, durable: true).Stop();
    }

    /// <summary>
    /// The service as a child process. Request logging is turned down (nginx runs with access_log off); the
    /// fan-out's watchers all share one token, so the per-user hub caps are lifted.
    /// </summary>
    public async Task StartServiceAsync()
    {
        Service = await StartServiceAsync("service", Conn, Storage, new Dictionary<string, string>
        {
            ["Realtime__MaxConnectionsPerUser"] = "100000",
            ["Realtime__MaxWatchedUsers"] = "100000",
        });
        Log($"the service listens on {ServiceUrl} (pid {Service.Pid})");
    }

    public async Task RestartServiceAsync()
    {
        await Service.DisposeAsync();
        await StartServiceAsync();
    }

    /// <summary>A service process with the benchmark's settings (no upload or picture caps, purge at once) and <paramref name="extra"/>.</summary>
    public async Task<ServiceProcess> StartServiceAsync(string name, string conn, string storageRoot, IDictionary<string, string> extra)
    {
        var settings = ServiceProcess.Settings(conn, storageRoot, new Dictionary<string, string>
        {
            ["RateLimits__UploadsPerMinute"] = "1000000",
            ["Pictures__MaxPicturesPerUser"] = "1000000",
            ["Trash__RetentionDays"] = "0",
            ["Logging__LogLevel__Default"] = "Warning",
        });
        foreach (var (k, v) in extra) settings[k] = v;
        var service = await ServiceProcess.StartAsync(settings, TimeSpan.FromSeconds(90));
        Cleanup.Add($"{name} (pid {service.Pid})", () => service.DisposeAsync().AsTask().GetAwaiter().GetResult());
        try { await WaitHttpAsync(service.BaseAddress + "health/ready", TimeSpan.FromSeconds(90)); }
        catch (TimeoutException) { throw new TimeoutException($"{name} was not ready within 90 s:\n{service.Tail(50)}"); }
        return service;
    }

    /// <summary>The service must live through every section; if it died, say so rather than blame the benchmark.</summary>
    public void CheckService(string after)
    {
        if (Service.HasExited)
            throw new InvalidOperationException($"the service exited during '{after}'; its log:\n{Service.Tail(30)}");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    public static async Task WaitHttpAsync(string url, TimeSpan timeout)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        await Wait.Eventually(async () =>
        {
            try
            {
                using var response = await http.GetAsync(url);
                return response.IsSuccessStatusCode;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { return false; }
        }, $"{url} answers", timeout);
    }

    /// <summary>VmRSS or VmHWM of a process, in MB.</summary>
    public static double MemoryMb(int pid, string key)
    {
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            if (line.StartsWith(key + ":")) return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]) / 1024.0;
        return double.NaN;
    }
}

using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;

namespace ImagePictures.Testing;

/// <summary>
/// The real service as a child process: `dotnet ImagePictures.Api.dll` from the build output that
/// the project reference places next to the tests. stdout and stderr are captured line by line.
/// Dispose kills the whole process tree.
/// </summary>
public sealed class ServiceProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;

    public int Port { get; }
    public Uri BaseAddress { get; }
    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public string Output => string.Join('\n', _output);

    private ServiceProcess(Process process, int port, ConcurrentQueue<string> output)
    {
        _process = process;
        Port = port;
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
        _output = output;
    }

    /// <summary>The service's entry assembly, located through the referenced assembly itself.</summary>
    public static string ApiDll
    {
        get
        {
            var dll = typeof(Program).Assembly.Location;
            if (File.Exists(Path.ChangeExtension(dll, ".runtimeconfig.json"))) return dll;
            // Fall back to the service's own build output for the same configuration.
            var config = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Parent!.Name; // bin/<Config>/net10.0
            return Path.Combine(TestPaths.RepositoryRoot, "src", "ImagePictures.Api", "bin", config, "net10.0", "ImagePictures.Api.dll");
        }
    }

    /// <summary>The settings every fault test starts the service with; <paramref name="extra"/> wins.</summary>
    public static Dictionary<string, string> Settings(string connectionString, string storageRoot, IDictionary<string, string>? extra = null)
    {
        var env = new Dictionary<string, string>
        {
            ["ASPNETCORE_ENVIRONMENT"] = "Development",
            ["ConnectionStrings__Pictures"] = connectionString,
            ["Storage__Root"] = storageRoot,
            ["RateLimits__UploadsPerMinute"] = "100000",
        };
        if (extra is not null) foreach (var (k, v) in extra) env[k] = v;
        return env;
    }

    public static async Task<ServiceProcess> StartAsync(IDictionary<string, string> env, TimeSpan? startTimeout = null)
    {
        var port = FreePort();
        var psi = new ProcessStartInfo("dotnet", [ApiDll])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = TestPaths.RepositoryRoot,
            UseShellExecute = false,
        };
        // The child must not inherit the test host's own ASP.NET Core / .NET settings.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("ASPNETCORE_") || k.StartsWith("DOTNET_ENVIRONMENT")).ToList())
            psi.Environment.Remove(key);
        psi.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{port}";
        psi.Environment["Logging__Console__FormatterName"] = "simple";
        foreach (var (k, v) in env) psi.Environment[k] = v;

        var output = new ConcurrentQueue<string>();
        var process = new Process { StartInfo = psi };
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) output.Enqueue("[stderr] " + e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var service = new ServiceProcess(process, port, output);
        try
        {
            await service.WaitUntilLiveAsync(startTimeout ?? TimeSpan.FromSeconds(60));
            return service;
        }
        catch
        {
            await service.DisposeAsync();
            throw;
        }
    }

    private async Task WaitUntilLiveAsync(TimeSpan timeout)
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"the service exited with {_process.ExitCode} while starting:\n{Tail()}");
            try
            {
                if ((await client.GetAsync("/health/live")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"the service did not answer /health/live within {timeout}:\n{Tail()}");
    }

    public string Tail(int lines = 40) => string.Join('\n', _output.TakeLast(lines));

    public HttpClient Client(string? token = null, TimeSpan? timeout = null)
    {
        var client = new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(1) })
        {
            BaseAddress = BaseAddress,
            Timeout = timeout ?? TimeSpan.FromSeconds(30),
        };
        if (token is not null) client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    /// <summary>Resident set size of the service process in KiB (VmRSS from /proc).</summary>
    public long RssKib()
    {
        foreach (var line in File.ReadLines($"/proc/{_process.Id}/status"))
            if (line.StartsWith("VmRSS:"))
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        throw new InvalidOperationException("no VmRSS");
    }

    /// <summary>SIGKILL: no shutdown code of the service runs.</summary>
    public void Kill()
    {
        if (_process.HasExited) return;
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    public ValueTask DisposeAsync()
    {
        try { Kill(); } catch (InvalidOperationException) { }
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

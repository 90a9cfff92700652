using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using RabbitMQ.Client;

namespace ImagePictures.Testing;

/// <summary>
/// One private RabbitMQ broker (Debian's rabbitmq-server) per test process, under
/// $IMAGEPICTURES_TEST_ROOT: its own epmd on 127.0.0.1 and free ports, run as the rabbitmq user.
/// Stopped (SIGTERM to the pid in its pid file, then its epmd) when the process exits; scripts/test.sh's
/// trap stops both too if the process dies.
/// </summary>
public sealed class TestBroker
{
    private const string Server = "/usr/lib/rabbitmq/bin/rabbitmq-server";
    private static readonly Lazy<TestBroker> Shared = new(() =>
    {
        var broker = new TestBroker();
        AppDomain.CurrentDomain.ProcessExit += (_, _) => broker.Shutdown();
        broker.Start();
        return broker;
    });

    public static TestBroker Instance => Shared.Value;

    /// <summary>Stops the broker and its epmd, if they were started.</summary>
    public static void StopShared()
    {
        if (Shared.IsValueCreated) Shared.Value.Shutdown();
    }

    private readonly string _dir;
    private readonly int _epmdPort = FreePort(), _amqpPort = FreePort(), _distPort = FreePort(), _ctlPort = FreePort();
    private readonly string _node;
    private Process? _epmd;

    private TestBroker()
    {
        if (!File.Exists(Server))
            throw new InvalidOperationException("rabbitmq-server is not installed: run scripts/setup.sh test (it installs Debian's rabbitmq-server).");
        var root = Environment.GetEnvironmentVariable("IMAGEPICTURES_TEST_ROOT") ?? "/tmp";
        var name = $"rmq-{Environment.ProcessId}-{Guid.NewGuid():N}"[..20];
        _dir = Path.Combine(root, name);
        _node = $"{name}@localhost";
        foreach (var sub in new[] { "home", "mnesia", "log" }) Directory.CreateDirectory(Path.Combine(_dir, sub));
        File.WriteAllText(Path.Combine(_dir, "enabled_plugins"), "[].");
        Run("chown", "-R", "rabbitmq:rabbitmq", _dir);
    }

    public string Uri => $"amqp://guest:guest@127.0.0.1:{_amqpPort}/";

    public ConnectionFactory Factory() => new() { Uri = new Uri(Uri), AutomaticRecoveryEnabled = false };

    private string PidFile => Path.Combine(_dir, "rabbit.pid");

    private void Start()
    {
        if (_epmd is null)
        {
            _epmd = Process.Start(new ProcessStartInfo("epmd", ["-port", _epmdPort.ToString(), "-address", "127.0.0.1"]) { UseShellExecute = false })!;
            File.WriteAllText(Path.Combine(_dir, "epmd.pid"), _epmd.Id.ToString());
        }
        var start = new ProcessStartInfo("setpriv", ["--reuid=rabbitmq", "--regid=rabbitmq", "--init-groups", Server])
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        start.Environment.Clear();
        var env = new Dictionary<string, string>
        {
            ["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin",
            ["HOME"] = Path.Combine(_dir, "home"),
            ["RABBITMQ_NODENAME"] = _node,
            ["RABBITMQ_NODE_IP_ADDRESS"] = "127.0.0.1",
            ["RABBITMQ_NODE_PORT"] = _amqpPort.ToString(),
            ["RABBITMQ_DIST_PORT"] = _distPort.ToString(),
            ["ERL_EPMD_PORT"] = _epmdPort.ToString(),
            ["RABBITMQ_CTL_DIST_PORT_MIN"] = _ctlPort.ToString(),
            ["RABBITMQ_CTL_DIST_PORT_MAX"] = _ctlPort.ToString(),
            ["RABBITMQ_MNESIA_BASE"] = Path.Combine(_dir, "mnesia"),
            ["RABBITMQ_LOG_BASE"] = Path.Combine(_dir, "log"),
            ["RABBITMQ_PID_FILE"] = PidFile,
            ["RABBITMQ_ENABLED_PLUGINS_FILE"] = Path.Combine(_dir, "enabled_plugins"),
        };
        foreach (var (k, v) in env) start.Environment[k] = v;
        var server = Process.Start(start)!;
        server.OutputDataReceived += (_, _) => { };
        server.ErrorDataReceived += (_, _) => { };
        server.BeginOutputReadLine();
        server.BeginErrorReadLine();

        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (server.HasExited)
                throw new InvalidOperationException($"rabbitmq-server exited with {server.ExitCode}; see {Path.Combine(_dir, "log")}");
            try
            {
                using var connection = Factory().CreateConnectionAsync().GetAwaiter().GetResult();
                return;
            }
            catch (Exception) when (clock.Elapsed < TimeSpan.FromSeconds(90))
            {
                Thread.Sleep(250);
            }
        }
    }

    /// <summary>Stops the broker (SIGTERM to the pid in its pid file) and waits until it has exited.</summary>
    public void Stop()
    {
        if (!File.Exists(PidFile)) return;
        var pid = int.Parse(File.ReadAllText(PidFile).Trim());
        try
        {
            using var beam = Process.GetProcessById(pid);
            Run("kill", "-TERM", pid.ToString());
            if (!beam.WaitForExit(60_000)) Run("kill", "-KILL", pid.ToString());
        }
        catch (ArgumentException) { /* already gone */ }
        File.Delete(PidFile);
    }

    /// <summary>Stops and starts the broker on the same ports and data (durable queues and persistent messages survive).</summary>
    public void Restart()
    {
        Stop();
        Start();
    }

    private void Shutdown()
    {
        if (_epmd is null) return;
        Stop();
        if (!_epmd.HasExited) _epmd.Kill();
        _epmd = null;
        try { Directory.Delete(_dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void Run(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { UseShellExecute = false })!;
        p.WaitForExit();
    }
}

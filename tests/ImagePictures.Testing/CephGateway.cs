using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Amazon.S3;
using Amazon.S3.Model;

namespace ImagePictures.Testing;

/// <summary>
/// A private, in-memory Ceph S3 gateway (one monitor, one memstore OSD, one radosgw) on 127.0.0.1,
/// for the tests and the benchmark: a real S3 server, up in a few seconds. Everything lives in one
/// folder whose path is on every daemon's command line (-c {dir}/ceph.conf), so scripts/test.sh's
/// trap finds leftovers; <see cref="Dispose"/> kills the daemons by their recorded pids.
/// What made it work (Ceph 16): msgr2 monitor address, ms_mon_client_mode = crc (radosgw insists on
/// secure mode otherwise), paxos_propose_interval = 0.05 (start-up about 13 s otherwise) and
/// tcp_nodelay=1 on the frontend (each request stalls about 40 ms otherwise).
/// </summary>
public sealed class CephGateway : IDisposable
{
    public const string AccessKey = "imagepictures-test", SecretKey = "imagepictures-test-secret";
    private readonly string _dir;
    private readonly string _conf;
    private readonly object _gate = new();

    public string ServiceUrl { get; }
    public int Port { get; }

    private CephGateway(string dir, int port)
    {
        _dir = dir;
        _conf = Path.Combine(dir, "ceph.conf");
        Port = port;
        ServiceUrl = $"http://127.0.0.1:{port}";
    }

    /// <param name="watchOwner">stop the daemons once this process is gone (tests); the benchmark stops them itself.</param>
    public static CephGateway Start(string dir, bool watchOwner = true)
    {
        foreach (var tool in new[] { "ceph-mon", "ceph-osd", "radosgw", "radosgw-admin", "monmaptool" })
            if (!File.Exists($"/usr/bin/{tool}"))
                throw new InvalidOperationException($"{tool} is missing: run scripts/setup.sh test (installs ceph-mon ceph-osd radosgw).");
        Directory.CreateDirectory(dir);
        var gateway = new CephGateway(dir, FreePort());
        try { gateway.Bootstrap(FreePort()); }
        catch { gateway.Dispose(); throw; }
        if (watchOwner) gateway.WatchOwner(Environment.ProcessId);
        return gateway;
    }

    private void Bootstrap(int monPort)
    {
        foreach (var sub in new[] { "run", "log", "mon", "osd/ceph-0" }) Directory.CreateDirectory(Path.Combine(_dir, sub));
        var fsid = Guid.NewGuid().ToString();
        File.WriteAllText(_conf, $"""
            [global]
            fsid = {fsid}
            mon host = [v2:127.0.0.1:{monPort}]
            mon initial members = a
            public addr = 127.0.0.1
            auth cluster required = none
            auth service required = none
            auth client required = none
            ms_mon_client_mode = crc
            paxos_propose_interval = 0.05
            run dir = {_dir}/run
            admin socket = {_dir}/run/$name.asok
            pid file = {_dir}/run/$name.pid
            log file = {_dir}/log/$name.log
            mon data = {_dir}/mon/$cluster-$id
            osd data = {_dir}/osd/$cluster-$id
            osd objectstore = memstore
            memstore device bytes = 4294967296
            osd pool default size = 1
            osd pool default min size = 1
            osd pool default pg num = 8
            osd pool default pgp num = 8
            osd pool default pg autoscale mode = off
            mon allow pool size one = true
            mon warn on pool no redundancy = false
            osd crush chooseleaf type = 0
            [client.rgw]
            rgw frontends = beast endpoint=127.0.0.1:{Port} tcp_nodelay=1
            rgw data = {_dir}/rgw
            rgw enable usage log = false

            """);
        Run("monmaptool", "--create", "--fsid", fsid, "--addv", "a", $"[v2:127.0.0.1:{monPort}]", Path.Combine(_dir, "monmap"));
        Run("ceph-mon", "-c", _conf, "--mkfs", "-i", "a", "--monmap", Path.Combine(_dir, "monmap"));
        Run("ceph-mon", "-c", _conf, "-i", "a");
        var osdUuid = Guid.NewGuid().ToString();
        Run("ceph", "-c", _conf, "osd", "new", osdUuid);
        Run("ceph-osd", "-c", _conf, "--mkfs", "-i", "0", "--osd-uuid", osdUuid);
        Run("ceph-osd", "-c", _conf, "-i", "0");
        StartGateway();
        Run("radosgw-admin", "-c", _conf, "user", "create", "--uid", "imagepictures", "--display-name", "ImagePictures tests",
            "--access-key", AccessKey, "--secret", SecretKey);
    }

    /// <summary>
    /// The daemons detach from us, and a test host may be killed before its exit handlers finish: a
    /// watchdog of their own (in its own session) kills them by their pid files once this process is gone.
    /// </summary>
    private void WatchOwner(int ownerPid)
    {
        var script = $"while kill -0 {ownerPid} 2>/dev/null; do sleep 1; done; " +
                     $"for f in '{_dir}'/run/*.pid; do kill -9 \"$(cat \"$f\")\" 2>/dev/null; done; sleep 1; rm -rf '{_dir}'";
        var psi = new ProcessStartInfo("setsid", ["sh", "-c", script, _conf]) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        using var _ = Process.Start(psi);
    }

    /// <summary>Starts radosgw (again) on the same port and waits until it answers HTTP.</summary>
    public void StartGateway()
    {
        Run("radosgw", "-c", _conf, "-n", "client.rgw");
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            try { if (http.GetAsync(ServiceUrl).Result.StatusCode == HttpStatusCode.OK) return; }
            catch (AggregateException) { }
            Thread.Sleep(100);
        }
        throw new TimeoutException($"radosgw did not answer on {ServiceUrl} within 60 s; see {_dir}/log");
    }

    /// <summary>SIGKILLs radosgw only (the monitor and the OSD, and so the data, stay): the store is gone until <see cref="StartGateway"/>.</summary>
    public void StopGateway() => Kill("client.rgw");

    public AmazonS3Client Client() => new(AccessKey, SecretKey, new AmazonS3Config
    {
        ServiceURL = ServiceUrl,
        ForcePathStyle = true,
        AuthenticationRegion = "us-east-1",
        RequestChecksumCalculation = Amazon.Runtime.RequestChecksumCalculation.WHEN_REQUIRED,
        ResponseChecksumValidation = Amazon.Runtime.ResponseChecksumValidation.WHEN_REQUIRED,
    });

    public async Task<string> CreateBucketAsync(string prefix)
    {
        var name = $"{prefix}-{Guid.NewGuid():N}"[..Math.Min(63, prefix.Length + 13)].ToLowerInvariant();
        using var client = Client();
        await client.PutBucketAsync(new PutBucketRequest { BucketName = name });
        return name;
    }

    /// <summary>The settings that point the service at a bucket of this gateway.</summary>
    public Dictionary<string, string> Settings(string bucket, string prefix = "", string separator = ":") => new()
    {
        [$"Storage{separator}Provider"] = "S3",
        [$"Storage{separator}S3{separator}ServiceUrl"] = ServiceUrl,
        [$"Storage{separator}S3{separator}Bucket"] = bucket,
        [$"Storage{separator}S3{separator}AccessKey"] = AccessKey,
        [$"Storage{separator}S3{separator}SecretKey"] = SecretKey,
        [$"Storage{separator}S3{separator}ForcePathStyle"] = "true",
        [$"Storage{separator}S3{separator}Prefix"] = prefix,
    };

    /// <summary>Stops the daemons of a gateway started by another process (the benchmark's s3-stop).</summary>
    public static void StopDaemonsIn(string dir) => new CephGateway(dir, 0).Dispose();

    public void Dispose()
    {
        foreach (var name in new[] { "client.rgw", "osd.0", "mon.a" }) Kill(name);
        try { Directory.Delete(_dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    private void Kill(string daemon)
    {
        lock (_gate)
        {
            var pidFile = Path.Combine(_dir, "run", $"{daemon}.pid");
            if (!File.Exists(pidFile) || !int.TryParse(File.ReadAllText(pidFile).Trim(), out var pid)) return;
            try
            {
                using var process = Process.GetProcessById(pid);
                // Only our own daemon: its command line names our ceph.conf.
                if (File.ReadAllText($"/proc/{pid}/cmdline").Contains(_conf))
                {
                    process.Kill();
                    process.WaitForExit(10_000);
                }
            }
            catch (ArgumentException) { } // already gone
            catch (IOException) { }
            catch (InvalidOperationException) { }
            File.Delete(pidFile);
        }
    }

    private void Run(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool, args) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000)) { process.Kill(); throw new TimeoutException($"{tool} did not finish within 120 s"); }
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{tool} {string.Join(' ', args)} failed ({process.ExitCode}): {stderr.Result}{stdout.Result}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

using Amazon.S3;
using ImagePictures.Testing;

namespace ImagePictures.Faults.Tests.Infrastructure;

/// <summary>One private Ceph S3 gateway for the fault tests of this process (they run one at a time), a bucket per test.</summary>
public static class FaultGateway
{
    private static readonly Lazy<CephGateway> Gateway = new(() =>
    {
        var gateway = CephGateway.Start(Path.Combine(TestPaths.Root, $"ceph-faults-{Environment.ProcessId}-{Guid.NewGuid():N}"[..29]));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => gateway.Dispose();
        return gateway;
    });

    public static CephGateway Instance => Gateway.Value;
}

/// <summary>Where a fault test's service keeps its pictures: the storage root, or a bucket of <see cref="FaultGateway"/>.</summary>
public sealed class FaultStorage
{
    public string Provider { get; private init; } = "FileSystem";
    public string Root { get; private init; } = "";
    public string Bucket { get; private init; } = "";
    public const string Prefix = "faults/";

    public static async Task<FaultStorage> CreateAsync(string provider, string storageRoot) =>
        provider == "S3"
            ? new FaultStorage { Provider = provider, Root = storageRoot, Bucket = await FaultGateway.Instance.CreateBucketAsync("ip-faults") }
            : new FaultStorage { Provider = provider, Root = storageRoot };

    /// <summary>The service's environment for this store (the file-system root is always set: the S3 provider ignores it).</summary>
    public Dictionary<string, string> Settings(string connectionString, IDictionary<string, string>? extra = null)
    {
        var env = ServiceProcess.Settings(connectionString, Root, extra);
        if (Provider == "S3") foreach (var (k, v) in FaultGateway.Instance.Settings(Bucket, Prefix, "__")) env[k] = v;
        return env;
    }

    public Task<StorageAudit> AuditAsync(string connectionString) =>
        Provider == "S3" ? StorageAudit.RunS3Async(connectionString, FaultGateway.Instance.Client(), Bucket, Prefix) : StorageAudit.RunAsync(connectionString, Root);
}

namespace ImagePictures.Faults.Tests.Infrastructure;

/// <summary>Where a fault test's service keeps its pictures: the storage root, or a bucket of the process's <see cref="TestGateway"/>.</summary>
public sealed class FaultStorage
{
    public string Provider { get; private init; } = "FileSystem";
    public string Root { get; private init; } = "";
    public string Bucket { get; private init; } = "";
    public const string Prefix = "faults/";

    public static async Task<FaultStorage> CreateAsync(string provider, string storageRoot) =>
        provider == "S3"
            ? new FaultStorage { Provider = provider, Root = storageRoot, Bucket = await TestGateway.Instance.CreateBucketAsync("ip-faults") }
            : new FaultStorage { Provider = provider, Root = storageRoot };

    /// <summary>The service's environment for this store (the file-system root is always set: the S3 provider ignores it).</summary>
    public Dictionary<string, string> Settings(string connectionString, IDictionary<string, string>? extra = null)
    {
        var env = ServiceProcess.Settings(connectionString, Root, extra);
        if (Provider == "S3") foreach (var (k, v) in TestGateway.Instance.Settings(Bucket, Prefix, "__")) env[k] = v;
        return env;
    }

    public Task<StorageAudit> AuditAsync(string connectionString) =>
        Provider == "S3" ? StorageAudit.RunS3Async(connectionString, TestGateway.Instance.Client(), Bucket, Prefix) : StorageAudit.RunAsync(connectionString, Root);
}

namespace ImagePictures.Testing;

/// <summary>
/// One private Ceph S3 gateway per test process (a bucket per test host or fault test inside it), started on first
/// use and stopped when the process exits; scripts/test.sh's trap stops it too if the process dies.
/// </summary>
public static class TestGateway
{
    private static readonly Lazy<CephGateway> Gateway = new(() =>
    {
        var root = Environment.GetEnvironmentVariable("IMAGEPICTURES_TEST_ROOT") is { Length: > 0 } r ? r : "/tmp";
        var gateway = CephGateway.Start(Path.Combine(root, $"ceph-api-{Environment.ProcessId}-{Guid.NewGuid():N}"[..26]));
        AppDomain.CurrentDomain.ProcessExit += (_, _) => gateway.Dispose();
        return gateway;
    });

    public static CephGateway Instance => Gateway.Value;
}

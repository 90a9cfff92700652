namespace ImagePictures.Faults.Tests.Infrastructure;

/// <summary>
/// A test class that runs the service as a child process over its own private PostgreSQL and
/// storage root. Whatever happens in the test, the process, the cluster and the folder go.
/// </summary>
public abstract class ChildServiceTest : IAsyncLifetime
{
    protected TestCluster Cluster { get; private set; } = null!;
    protected string StorageRoot { get; private set; } = "";
    protected ServiceProcess? Child { get; set; }

    public virtual async Task InitializeAsync()
    {
        Cluster = await TestCluster.StartOwnAsync();
        StorageRoot = TestPaths.NewStorageRoot();
    }

    public virtual async Task DisposeAsync()
    {
        try { if (Child is not null) await Child.DisposeAsync(); }
        finally
        {
            if (Cluster is not null) await Cluster.DisposeAsync();
            TestPaths.DeleteQuietly(StorageRoot);
        }
    }
}

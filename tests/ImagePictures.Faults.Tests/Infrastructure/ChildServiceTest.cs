namespace ImagePictures.Faults.Tests.Infrastructure;

/// <summary>
/// A test class that runs the service as a child process over its own private PostgreSQL and
/// storage root. Whatever happens in the test, the process, the cluster and the folder go.
/// </summary>
public abstract class ChildServiceTest : IAsyncLifetime
{
    protected FaultCluster Cluster { get; } = new();
    protected string StorageRoot { get; private set; } = "";
    protected ServiceProcess? Child { get; set; }

    public virtual async Task InitializeAsync()
    {
        await Cluster.InitializeAsync();
        StorageRoot = TestPaths.NewStorageRoot();
    }

    public virtual async Task DisposeAsync()
    {
        try { if (Child is not null) await Child.DisposeAsync(); }
        finally
        {
            await Cluster.DisposeAsync();
            TestPaths.DeleteQuietly(StorageRoot);
        }
    }
}

using ImagePictures.Api.Realtime;
using ImagePictures.Api.Tests.Infrastructure;
using static ImagePictures.Api.Tests.Realtime.RealtimeKit;

namespace ImagePictures.Api.Tests.Realtime;

public sealed class TwoInstances : IAsyncLifetime
{
    public PicturesApplication A { get; } = new();
    public PicturesApplication B { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await ((IAsyncLifetime)A).InitializeAsync();
        // A second instance on the first one's database and storage, as a cluster runs.
        B = new PicturesApplication { SharedConnectionString = A.ConnectionString, StorageRoot = A.StorageRoot };
        await ((IAsyncLifetime)B).InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await ((IAsyncLifetime)B).DisposeAsync();
        await ((IAsyncLifetime)A).DisposeAsync();
    }
}

[Trait("Category", "Api")]
public class TwoInstanceTests(TwoInstances cluster) : IClassFixture<TwoInstances>
{
    [Fact]
    public async Task ChangeThroughOneInstanceReachesWatchersAndOwnersOnTheOtherExactlyOnce()
    {
        await using var watcherOnB = await ConnectAsync(cluster.B, "ti-watcher");
        await watcherOnB.Watch("ti-alice");
        await using var ownerOnB = await ConnectAsync(cluster.B, "ti-alice");
        await using var ownerOnA = await ConnectAsync(cluster.A, "ti-alice");

        var picture = await UploadAsync(cluster.A, "ti-alice", activate: true);
        var seen = await watcherOnB.Expect(EventTypes.ActivePictureChanged, "ti-alice");
        Assert.Equal(picture.Id, seen.PictureId);
        Assert.Equal(picture.Id, (await ownerOnB.Expect(EventTypes.PictureUploaded, "ti-alice")).PictureId);
        await ownerOnA.Expect(EventTypes.PictureUploaded, "ti-alice");

        // Nothing twice. Each connection has its own marker user, so that no marker reaches another connection.
        Assert.Single(await watcherOnB.ReceivedBeforeMarkerAsync(cluster.A, "ti-marker-watcher"));
        Assert.Equal(2, (await ownerOnB.ReceivedBeforeMarkerAsync(cluster.A, "ti-marker-owner-b")).Length);
        Assert.Equal(2, (await ownerOnA.ReceivedBeforeMarkerAsync(cluster.A, "ti-marker-owner-a")).Length);
    }

    [Fact]
    public async Task AvatarCacheOfTheOtherInstanceStaysCoherent()
    {
        var first = await UploadAsync(cluster.A, "ti-bob", activate: true);
        var viaB = cluster.B.CreateClient();
        var before = await viaB.GetAsync("/avatars/ti-bob?size=64");
        var etagBefore = before.Headers.ETag?.Tag;
        Assert.NotNull(etagBefore);

        // A change through A: B's cache learns it from the relay, not from its own requests.
        await using var watcher = await ConnectAsync(cluster.B, "ti-bob-watcher");
        await watcher.Watch("ti-bob");
        var second = await UploadAsync(cluster.A, "ti-bob", activate: true, image: TestImages.SolidJpeg(300, 300, TestImages.Green));
        await watcher.Expect(EventTypes.ActivePictureChanged, "ti-bob");
        Assert.NotEqual(first.Id, second.Id);
        var after = await viaB.GetAsync("/avatars/ti-bob?size=64");
        Assert.NotEqual(etagBefore, after.Headers.ETag?.Tag);
    }

    [Fact]
    public async Task VariantLivenessOfTheOtherInstanceFollowsTrashAndRestore()
    {
        var picture = await UploadAsync(cluster.A, "ti-carol");
        var viaB = cluster.B.CreateClient();
        var url = $"/pictures/{picture.Id}/64";
        Assert.Equal(System.Net.HttpStatusCode.OK, (await viaB.GetAsync(url)).StatusCode); // now cached as live on B

        await using var ownerOnB = await ConnectAsync(cluster.B, "ti-carol");
        var owner = cluster.A.ClientFor("ti-carol");
        await owner.DeleteAsync($"/api/users/me/pictures/{picture.Id}");
        await ownerOnB.Expect(EventTypes.PictureTrashed, "ti-carol", TimeSpan.FromSeconds(5));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, (await viaB.GetAsync(url)).StatusCode);

        await owner.PostAsync($"/api/users/me/trash/{picture.Id}/restore", null);
        await ownerOnB.Expect(EventTypes.PictureRestored, "ti-carol", TimeSpan.FromSeconds(5));
        Assert.Equal(System.Net.HttpStatusCode.OK, (await viaB.GetAsync(url)).StatusCode);
    }
}

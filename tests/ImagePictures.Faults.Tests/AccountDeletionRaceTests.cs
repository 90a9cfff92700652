using System.Net;
using ImagePictures.Faults.Tests.Infrastructure;

namespace ImagePictures.Faults.Tests;

/// <summary>
/// Promise: an upload answered 201 keeps every file, or the account deletion that follows removes it
/// whole; never a row without its files, nothing left behind. Each round, three uploads of one user
/// run concurrently and DELETE /api/users/{id} follows after a seeded 20–250 ms, on the real service.
/// </summary>
[Trait("Category", "Fault")]
public sealed class AccountDeletionRaceTests(ITestOutputHelper output) : ChildServiceTest
{
    private const int Seed = 20261201, Rounds = 25;

    [Fact]
    public async Task UploadsRacingAnAccountDeletionNeverLeaveARowWithoutFiles()
    {
        Child = await ServiceProcess.StartAsync(ServiceProcess.Settings(Cluster.ConnectionString, StorageRoot));
        var random = new Random(Seed);
        var jpegs = Service.SmallJpegs(6, Seed);
        var acknowledged = new List<(string UserId, Guid Id)>();
        var unexpected = new List<string>();
        var overlapped = 0;

        for (var round = 0; round < Rounds; round++)
        {
            var user = $"race-{round}";
            using var client = Child.Client(Tokens.For(user), TimeSpan.FromSeconds(60));
            var uploads = Enumerable.Range(0, 3).Select(i =>
                client.PostAsync($"/api/users/{user}/pictures?activate={(i == 0 ? "true" : "false")}", Service.Form(jpegs[random.Next(jpegs.Length)]))).ToArray();
            await Task.Delay(random.Next(20, 251));
            if (uploads.Any(u => !u.IsCompleted)) overlapped++;
            var deletion = await client.DeleteAsync($"/api/users/{user}");
            if (deletion.StatusCode != HttpStatusCode.OK)
                unexpected.Add($"round {round} DELETE: {(int)deletion.StatusCode} {await deletion.Content.ReadAsStringAsync()}");
            foreach (var upload in uploads)
            {
                var response = await upload;
                if (response.StatusCode == HttpStatusCode.Created && await Service.IdOf(response) is { } id) acknowledged.Add((user, id));
                else unexpected.Add($"round {round} upload: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
        }

        var audit = await StorageAudit.RunAsync(Cluster.ConnectionString, StorageRoot);
        var survivors = audit.Rows.Select(r => r.Id).ToHashSet();
        // An acknowledged upload whose row is gone was removed by the deletion: whole, folder included.
        var halfGone = acknowledged.Where(a => !survivors.Contains(a.Id) && Directory.Exists(Path.Combine(StorageRoot, "users", a.UserId, a.Id.ToString("D")))).ToList();
        var leftovers = Directory.Exists(Path.Combine(StorageRoot, "users"))
            ? Directory.EnumerateDirectories(Path.Combine(StorageRoot, "users"), ".deleting-*").ToList() : [];
        Figures.Write(output, "account-deletion-race", $"{Rounds} rounds ({overlapped} with uploads still in flight at the DELETE); " +
            $"uploads answered 201: {acknowledged.Count}; rows left (uploads that landed after the deletion): {audit.Rows.Count}; " +
            $"rows without files: {audit.RowsWithMissingFiles.Count}; orphan folders: {audit.OrphanFolders.Count}; " +
            $"staging/stray: {audit.StagingFolders.Count + audit.StrayFiles.Count}; detached leftovers: {leftovers.Count}");

        Assert.True(unexpected.Count == 0, "unexpected answers:\n" + string.Join('\n', unexpected.Take(20)));
        Assert.True(overlapped >= Rounds / 3, $"only {overlapped} of {Rounds} rounds had an upload in flight at the DELETE: the race was not exercised");
        Assert.Empty(audit.RowsWithMissingFiles);
        Assert.Empty(audit.OrphanFolders);
        Assert.Empty(audit.StagingFolders);
        Assert.Empty(audit.StrayFiles);
        Assert.Empty(leftovers);
        Assert.Empty(halfGone);

        // What survived is served: every file of every remaining row is really there.
        using var anonymous = Child.Client();
        foreach (var row in audit.Rows)
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync($"/pictures/{row.Id}/64")).StatusCode);
    }
}

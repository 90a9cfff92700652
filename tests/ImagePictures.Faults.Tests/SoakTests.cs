using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using ImagePictures.Faults.Tests.Infrastructure;

namespace ImagePictures.Faults.Tests;

/// <summary>
/// Ninety seconds (IMAGEPICTURES_SOAK_SECONDS; longer runs for a release) of mixed load by 4 users: upload, list, activate,
/// avatar GET, trash, restore (when the route exists). Any 5xx or unanswered request fails.
/// </summary>
[Trait("Category", "Slow")]
public sealed class SoakTests(ITestOutputHelper output) : ChildServiceTest
{
    public static int Seconds =>
        int.TryParse(Environment.GetEnvironmentVariable("IMAGEPICTURES_SOAK_SECONDS"), out var s) && s > 0 ? s : 90;

    [Fact]
    public async Task MixedLoadNeverFails()
    {
        Child = await ServiceProcess.StartAsync(ServiceProcess.Settings(Cluster.ConnectionString, StorageRoot,
            new Dictionary<string, string> { ["Pictures__MaxPicturesPerUser"] = "100000" }));
        var routes = await Service.RoutesAsync(Child.Client());
        var canRestore = routes.Contains("/api/users/{userId}/trash/{pictureId}/restore");
        var canEmptyTrash = routes.Contains("/api/users/{userId}/trash");
        var jpegs = Service.SmallJpegs(8, 99);
        var duration = TimeSpan.FromSeconds(Seconds);
        var warmUp = TimeSpan.FromSeconds(Math.Min(20, Seconds / 6.0));
        var counts = new ConcurrentDictionary<string, int>();
        var failures = new ConcurrentQueue<string>();
        var clock = Stopwatch.StartNew();

        async Task User(int n)
        {
            var user = $"soak-{n}";
            var random = new Random(n);
            var live = new List<Guid>();
            var trashed = new List<Guid>();
            using var client = Child!.Client(Tokens.For(user), TimeSpan.FromSeconds(30));
            using var anonymous = Child.Client(timeout: TimeSpan.FromSeconds(30));
            var ops = 0;
            while (clock.Elapsed < duration)
            {
                var roll = random.Next(100);
                string op;
                Func<Task<HttpResponseMessage>> send;
                if (roll < 30 || live.Count == 0)
                {
                    op = "upload";
                    send = () => client.PostAsync($"/api/users/{user}/pictures?activate={random.Next(2) == 0}".ToLowerInvariant(), Service.Form(jpegs[random.Next(jpegs.Length)]));
                }
                else if (roll < 45) { op = "list"; send = () => client.GetAsync($"/api/users/{user}/pictures"); }
                else if (roll < 60) { op = "activate"; var id = live[random.Next(live.Count)]; send = () => client.PutAsJsonAsync($"/api/users/{user}/active-picture", new { pictureId = id }); }
                else if (roll < 80) { op = "avatar"; send = () => anonymous.GetAsync($"/avatars/{user}?size={random.Next(16, 600)}"); }
                else if (roll < 92 || !canRestore || trashed.Count == 0)
                {
                    op = "trash"; var id = live[random.Next(live.Count)];
                    live.Remove(id); trashed.Add(id);
                    send = () => client.DeleteAsync($"/api/users/{user}/pictures/{id}");
                }
                else
                {
                    op = "restore"; var id = trashed[random.Next(trashed.Count)];
                    trashed.Remove(id); live.Add(id);
                    send = () => client.PostAsync($"/api/users/{user}/trash/{id}/restore", null);
                }
                try
                {
                    using var response = await send();
                    var status = (int)response.StatusCode;
                    counts.AddOrUpdate(status.ToString(), 1, (_, c) => c + 1);
                    counts.AddOrUpdate($"{op}:{status}", 1, (_, c) => c + 1);
                    if (status >= 500) failures.Enqueue($"{op}: {status} {await response.Content.ReadAsStringAsync()}");
                    if (op == "upload" && status == 201 && await Service.IdOf(response) is { } created) live.Add(created);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    failures.Enqueue($"{op}: no answer ({e.Message})");
                }
                // Keep the disk bounded: now and then the trash is emptied (or the account deleted before that route exists).
                if (++ops % 200 == 0)
                {
                    using var cleanup = canEmptyTrash ? await client.DeleteAsync($"/api/users/{user}/trash") : await client.DeleteAsync($"/api/users/{user}");
                    counts.AddOrUpdate($"cleanup:{(int)cleanup.StatusCode}", 1, (_, c) => c + 1);
                    if (!canEmptyTrash) live.Clear();
                    trashed.Clear();
                }
                await Task.Delay(10);
            }
        }

        var users = Enumerable.Range(0, 4).Select(n => Task.Run(() => User(n))).ToArray();
        await Task.Delay(warmUp);
        var rssWarm = Child.RssKib();
        await Task.WhenAll(users);
        var rssEnd = Child.RssKib();

        Figures.Write(output, "soak", $"{Seconds} s, 4 users; RSS after {warmUp.TotalSeconds:0} s warm-up {rssWarm / 1024.0:0.0} MiB, at the end {rssEnd / 1024.0:0.0} MiB");
        Figures.Write(output, "soak", "responses: " + string.Join(", ", counts.Where(c => !c.Key.Contains(':')).OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}")));
        Figures.Write(output, "soak", "by operation: " + string.Join(", ", counts.Where(c => c.Key.Contains(':')).OrderBy(c => c.Key).Select(c => $"{c.Key}={c.Value}")));
        Assert.True(failures.IsEmpty, $"{failures.Count} failures:\n" + string.Join('\n', failures.Take(15)));
        Assert.False(Child.HasExited);
    }
}

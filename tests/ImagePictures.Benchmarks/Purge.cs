using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;

namespace ImagePictures.Benchmarks;

/// <summary>
/// Seeds <c>n</c> trashed pictures whose purge time has passed (rows by COPY, a folder with two small
/// files each), triggers the trash-purge job and waits for its run to finish. The database also holds
/// <see cref="PopulatedUsers"/> other users with an active picture (rows only), as a running service
/// would: a purge that scans active_pictures once per deleted row shows up here.
/// </summary>
public static class Purge
{
    public const int PicturesPerUser = 100;
    private const int PopulatedUsers = 50_000;

    /// <summary>A purge run's outcome; <see cref="Status"/> is "timeout" when the run did not finish within 5 minutes.</summary>
    public sealed record PurgeResult(string Status, int N, double JobSeconds, double WallSeconds, double Rate,
        string Found, string Deleted, string Failed, long RowsLeft, int FoldersLeft, double SeedSeconds)
    {
        public bool Complete => RowsLeft == 0 && FoldersLeft == 0;
    }

    /// <summary>A bare loop's deletion rate (folders or pictures per second).</summary>
    public sealed record RateResult(int N, double Seconds, double Rate);

    public static Task<PurgeResult> RunAsync(string url, string connectionString, string storageRoot, int n) =>
        RunAsync(url, connectionString, n,
            (ids, user) => { SeedFolders(storageRoot, ids, user); return Task.CompletedTask; },
            (ids, user) => Task.FromResult(ids.Select((id, i) => Path.Combine(storageRoot, "users", user(i), id.ToString("D"))).Count(Directory.Exists)));

    /// <summary>The purge with its files seeded and counted by the caller (the file system, or a bucket: see S3Bench).</summary>
    public static async Task<PurgeResult> RunAsync(string url, string connectionString, int n,
        Func<Guid[], Func<int, string>, Task> seedFiles, Func<Guid[], Func<int, string>, Task<int>> countLeft)
    {
        var prefix = $"bench-purge-{n}-{Environment.TickCount64 % 100000}";
        var ids = Enumerable.Range(0, n).Select(_ => Guid.NewGuid()).ToArray();
        string User(int i) => $"{prefix}-{i / PicturesPerUser}";

        var seed = Stopwatch.StartNew();
        await seedFiles(ids, User);
        await using (var conn = new NpgsqlConnection(connectionString))
        {
            await conn.OpenAsync();
            await SeedPopulationAsync(conn);
            await using (var copy = await conn.BeginBinaryImportAsync(
                "COPY pictures (id, user_id, is_default, width, height, bytes, content_hash, has_alpha, created_at, deleted_at, purge_after) FROM STDIN (FORMAT BINARY)"))
            {
                var now = DateTime.UtcNow;
                for (var i = 0; i < n; i++)
                {
                    await copy.StartRowAsync();
                    await copy.WriteAsync(ids[i], NpgsqlDbType.Uuid);
                    await copy.WriteAsync(User(i), NpgsqlDbType.Text);
                    await copy.WriteAsync(false, NpgsqlDbType.Boolean);
                    await copy.WriteAsync(512, NpgsqlDbType.Integer);
                    await copy.WriteAsync(512, NpgsqlDbType.Integer);
                    await copy.WriteAsync(16L, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(new string('0', 64), NpgsqlDbType.Text);
                    await copy.WriteAsync(false, NpgsqlDbType.Boolean);
                    await copy.WriteAsync(now.AddDays(-40), NpgsqlDbType.TimestampTz);
                    await copy.WriteAsync(now.AddDays(-2), NpgsqlDbType.TimestampTz);
                    await copy.WriteAsync(now.AddDays(-1), NpgsqlDbType.TimestampTz);
                }
                await copy.CompleteAsync();
            }
            await using var analyze = new NpgsqlCommand("ANALYZE pictures, active_pictures", conn);
            await analyze.ExecuteNonQueryAsync();
        }
        var seedSeconds = seed.Elapsed.TotalSeconds;

        using var http = Drivers.Client(url);
        var token = await Drivers.TokenAsync(http, "bench-admin", "admin");
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var known = (await RunsAsync(http)).Select(Key).ToHashSet();

        var wall = Stopwatch.StartNew();
        using (var trigger = await http.PostAsync("/api/admin/jobs/trash-purge/trigger", null))
            if ((int)trigger.StatusCode != 202) throw new InvalidOperationException($"trigger: {(int)trigger.StatusCode} {await trigger.Content.ReadAsStringAsync()}");

        JsonElement? run = null;
        while (wall.Elapsed < TimeSpan.FromMinutes(5))
        {
            await Task.Delay(200);
            // JsonElement is a struct: project to nullable so that "no such run yet" is null, not default(JsonElement).
            run = (await RunsAsync(http)).Where(r => !known.Contains(Key(r)) && IsFinished(r)).Select(r => (JsonElement?)r).FirstOrDefault();
            if (run is not null) break;
        }
        var wallSeconds = wall.Elapsed.TotalSeconds;
        if (run is not { } done) return new PurgeResult("timeout", n, double.NaN, wallSeconds, double.NaN, "", "", "", -1, -1, seedSeconds);

        var started = done.GetProperty("startedAt").GetDateTimeOffset();
        var finished = done.GetProperty("finishedAt").GetDateTimeOffset();
        var jobSeconds = (finished - started).TotalSeconds;

        long rowsLeft;
        await using (var conn = new NpgsqlConnection(connectionString))
        {
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand("SELECT count(*) FROM pictures WHERE id = ANY($1)", conn) { Parameters = { new() { Value = ids } } };
            rowsLeft = (long)(await cmd.ExecuteScalarAsync())!;
        }
        var foldersLeft = await countLeft(ids, User);

        return new PurgeResult(Str(done, "status"), n, jobSeconds, wallSeconds, n / Math.Max(jobSeconds, 0.001),
            Str(done, "found"), Str(done, "deleted"), Str(done, "failed"), rowsLeft, foldersLeft, seedSeconds);
    }

    /// <summary>
    /// The file-system ceiling, measured in the same run: the same folder layout, deleted by a bare loop
    /// (Directory.Delete, 4 threads, no database). The purge cannot delete faster than the disk does.
    /// </summary>
    public static RateResult FileSystemBaseline(string storageRoot, int n)
    {
        var prefix = $"bench-fs-{n}-{Environment.TickCount64 % 100000}";
        var ids = Enumerable.Range(0, n).Select(_ => Guid.NewGuid()).ToArray();
        string User(int i) => $"{prefix}-{i / PicturesPerUser}";
        SeedFolders(storageRoot, ids, User);
        var folders = ids.Select((id, i) => Path.Combine(storageRoot, "users", User(i), id.ToString("D"))).ToArray();
        var sw = Stopwatch.StartNew();
        Parallel.ForEach(folders, new ParallelOptions { MaxDegreeOfParallelism = 4 }, f => Directory.Delete(f, recursive: true));
        var seconds = sw.Elapsed.TotalSeconds;
        for (var u = 0; u * PicturesPerUser < n; u++) Directory.Delete(Path.Combine(storageRoot, "users", $"{prefix}-{u}"));
        return new RateResult(n, seconds, n / seconds);
    }

    /// <summary>
    /// A folder with two small files per picture, as users/{user}/{pictureId}/, then written to disk as the
    /// service's fsynced uploads are: deleting files whose blocks were never written costs the disk nothing,
    /// which made the bare deletion loop look twice as fast as it is.
    /// </summary>
    private static void SeedFolders(string storageRoot, Guid[] ids, Func<int, string> user)
    {
        Parallel.For(0, ids.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var folder = Path.Combine(storageRoot, "users", user(i), ids[i].ToString("D"));
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(Path.Combine(folder, "64.jpg"), [0xFF, 0xD8, 0xFF, 0xD9]);
            File.WriteAllBytes(Path.Combine(folder, "64.webp"), "RIFF\0\0\0\0WEBP"u8.ToArray());
        });
        sync();
    }

    [System.Runtime.InteropServices.DllImport("libc")] private static extern void sync();

    /// <summary>Once per database: users "bench-live-*" with one live, active picture each.</summary>
    private static async Task SeedPopulationAsync(NpgsqlConnection conn)
    {
        await using (var check = new NpgsqlCommand("SELECT EXISTS (SELECT 1 FROM active_pictures WHERE user_id = 'bench-live-0')", conn))
            if ((bool)(await check.ExecuteScalarAsync())!) return;
        var ids = Enumerable.Range(0, PopulatedUsers).Select(_ => Guid.NewGuid()).ToArray();
        await using (var copy = await conn.BeginBinaryImportAsync(
            "COPY pictures (id, user_id, is_default, width, height, bytes, content_hash, has_alpha) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < ids.Length; i++)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync(ids[i], NpgsqlDbType.Uuid);
                await copy.WriteAsync($"bench-live-{i}", NpgsqlDbType.Text);
                await copy.WriteAsync(false, NpgsqlDbType.Boolean);
                await copy.WriteAsync(512, NpgsqlDbType.Integer);
                await copy.WriteAsync(512, NpgsqlDbType.Integer);
                await copy.WriteAsync(16L, NpgsqlDbType.Bigint);
                await copy.WriteAsync(new string('0', 64), NpgsqlDbType.Text);
                await copy.WriteAsync(false, NpgsqlDbType.Boolean);
            }
            await copy.CompleteAsync();
        }
        await using (var copy = await conn.BeginBinaryImportAsync("COPY active_pictures (user_id, picture_id) FROM STDIN (FORMAT BINARY)"))
        {
            for (var i = 0; i < ids.Length; i++)
            {
                await copy.StartRowAsync();
                await copy.WriteAsync($"bench-live-{i}", NpgsqlDbType.Text);
                await copy.WriteAsync(ids[i], NpgsqlDbType.Uuid);
            }
            await copy.CompleteAsync();
        }
    }

    private static async Task<List<JsonElement>> RunsAsync(HttpClient http)
    {
        using var response = await http.GetAsync("/api/admin/jobs/trash-purge/runs?limit=20");
        var body = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"runs: {(int)response.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement.EnumerateArray().Select(e => e.Clone()).ToList();
    }

    private static string Key(JsonElement run) => Str(run, "startedAt");

    private static bool IsFinished(JsonElement run) =>
        run.TryGetProperty("finishedAt", out var f) && f.ValueKind == JsonValueKind.String;

    private static string Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) ? v.ValueKind == JsonValueKind.String ? v.GetString() ?? "" : v.GetRawText() : "";
}

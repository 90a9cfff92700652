using System.Diagnostics;
using Npgsql;
using NpgsqlTypes;

namespace ImagePictures.Benchmarks;

/// <summary>
/// The avatar population of the million-user benchmark: users z1…zN ranked by popularity, every
/// (N / withPictures)-th of them (z1 first) with an active picture (rows by COPY, a 64 px WebP file
/// each, a content hash of its own so that every picture is its own cache entry), the rest on the
/// default image. Writes a list of request paths drawn from a Zipf distribution over the ranks, which
/// tests/ImagePictures.Benchmarks/wrk-paths.lua replays.
/// </summary>
public static class Zipf
{
    public sealed record Population(int Users, int Pictures, int Samples, int Distinct, double PictureShare, string HotUser, double SeedSeconds);
    public sealed record PgCounters(long Commits, long? Statements);

    public static async Task<Population> SeedAsync(string connectionString, string storageRoot, string webpPath, int users, int withPictures, string pathsFile, int samples, double s)
    {
        var sw = Stopwatch.StartNew();
        var stride = Math.Max(1, users / withPictures);
        var webp = await File.ReadAllBytesAsync(webpPath);
        var ranks = Enumerable.Range(0, withPictures).Select(k => 1 + k * stride).Where(r => r <= users).ToArray();
        var ids = ranks.Select(_ => Guid.NewGuid()).ToArray();
        Parallel.For(0, ranks.Length, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i =>
        {
            var folder = Path.Combine(storageRoot, "users", $"z{ranks[i]}", ids[i].ToString("D"));
            Directory.CreateDirectory(folder);
            File.WriteAllBytes(Path.Combine(folder, "64.webp"), webp);
        });

        await using (var conn = new NpgsqlConnection(connectionString))
        {
            await conn.OpenAsync();
            await using (var copy = await conn.BeginBinaryImportAsync(
                "COPY pictures (id, user_id, is_default, width, height, bytes, content_hash, has_alpha) FROM STDIN (FORMAT BINARY)"))
            {
                for (var i = 0; i < ranks.Length; i++)
                {
                    await copy.StartRowAsync();
                    await copy.WriteAsync(ids[i], NpgsqlDbType.Uuid);
                    await copy.WriteAsync($"z{ranks[i]}", NpgsqlDbType.Text);
                    await copy.WriteAsync(false, NpgsqlDbType.Boolean);
                    await copy.WriteAsync(512, NpgsqlDbType.Integer);
                    await copy.WriteAsync(512, NpgsqlDbType.Integer);
                    await copy.WriteAsync((long)webp.Length, NpgsqlDbType.Bigint);
                    await copy.WriteAsync(ids[i].ToString("N") + ids[i].ToString("N"), NpgsqlDbType.Text);
                    await copy.WriteAsync(false, NpgsqlDbType.Boolean);
                }
                await copy.CompleteAsync();
            }
            await using (var copy = await conn.BeginBinaryImportAsync("COPY active_pictures (user_id, picture_id) FROM STDIN (FORMAT BINARY)"))
            {
                for (var i = 0; i < ranks.Length; i++)
                {
                    await copy.StartRowAsync();
                    await copy.WriteAsync($"z{ranks[i]}", NpgsqlDbType.Text);
                    await copy.WriteAsync(ids[i], NpgsqlDbType.Uuid);
                }
                await copy.CompleteAsync();
            }
            await using var analyze = new NpgsqlCommand("ANALYZE pictures, active_pictures", conn);
            await analyze.ExecuteNonQueryAsync();
        }

        // Inverse CDF over the ranks: P(rank = r) ∝ 1 / r^s.
        var cumulative = new double[users];
        var total = 0.0;
        for (var r = 1; r <= users; r++) cumulative[r - 1] = total += 1 / Math.Pow(r, s);
        var random = new Random(42);
        var seen = new HashSet<int>();
        var toPictures = 0;
        await using (var writer = new StreamWriter(pathsFile))
        {
            for (var i = 0; i < samples; i++)
            {
                var index = Array.BinarySearch(cumulative, random.NextDouble() * total);
                var rank = (index < 0 ? ~index : index) + 1;
                if (rank > users) rank = users;
                seen.Add(rank);
                if ((rank - 1) % stride == 0 && rank <= ranks[^1]) toPictures++;
                await writer.WriteAsync($"/avatars/z{rank}?size=64\n");
            }
        }
        return new Population(users, ranks.Length, samples, seen.Count, (double)toPictures / samples, "z1", sw.Elapsed.TotalSeconds);
    }

    /// <summary>Transactions committed so far in this database (pg_stat_database.xact_commit), and pg_stat_statements' call count when loaded.</summary>
    public static async Task<PgCounters> CountersAsync(string connectionString)
    {
        await using var conn = new NpgsqlConnection(connectionString);
        await conn.OpenAsync();
        // The statistics collector reports with a delay; forcing a fresh snapshot makes before/after comparable.
        await using (var clear = new NpgsqlCommand("SELECT pg_stat_clear_snapshot()", conn)) await clear.ExecuteNonQueryAsync();
        await using var cmd = new NpgsqlCommand("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()", conn);
        var commits = (long)(await cmd.ExecuteScalarAsync())!;
        long? statements = null;
        try
        {
            await using var st = new NpgsqlCommand("SELECT sum(calls)::bigint FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = current_database()", conn);
            statements = await st.ExecuteScalarAsync() as long?;
        }
        catch (PostgresException) { /* not loaded */ }
        return new PgCounters(commits, statements);
    }
}

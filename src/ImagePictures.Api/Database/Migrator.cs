using Dapper;
using Npgsql;

namespace ImagePictures.Api.Database;

/// <summary>
/// Applies the numbered .sql files embedded in this assembly, in order, each once. An advisory lock
/// keeps two instances starting together from applying the same file twice. A failing migration
/// throws, so the service stops instead of serving on a half-built schema.
/// </summary>
public sealed class Migrator(NpgsqlDataSource db, ILogger<Migrator> log)
{
    private const long LockKey = 0x1_0AE_0001;

    public async Task MigrateAsync(CancellationToken ct = default)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        await conn.ExecuteAsync("SELECT pg_advisory_lock(@LockKey)", new { LockKey });
        try
        {
            await conn.ExecuteAsync("""
                CREATE TABLE IF NOT EXISTS schema_migrations (
                    version    text PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now())
                """);
            var applied = (await conn.QueryAsync<string>("SELECT version FROM schema_migrations")).ToHashSet();
            foreach (var (version, sql) in Embedded())
            {
                if (applied.Contains(version)) continue;
                await using var tx = await conn.BeginTransactionAsync(ct);
                try
                {
                    await conn.ExecuteAsync(new CommandDefinition(sql, transaction: tx, commandTimeout: 300, cancellationToken: ct));
                    await conn.ExecuteAsync("INSERT INTO schema_migrations (version) VALUES (@version)", new { version }, tx);
                    await tx.CommitAsync(ct);
                    log.LogInformation("Applied migration {Version}", version);
                }
                catch (Exception e)
                {
                    throw new InvalidOperationException($"Migration {version} failed: {e.Message}", e);
                }
            }
        }
        finally
        {
            await conn.ExecuteAsync("SELECT pg_advisory_unlock(@LockKey)", new { LockKey });
        }
    }

    public static IEnumerable<(string Version, string Sql)> Embedded()
    {
        var assembly = typeof(Migrator).Assembly;
        const string prefix = "ImagePictures.Api.Database.Migrations.";
        foreach (var name in assembly.GetManifestResourceNames().Where(n => n.StartsWith(prefix) && n.EndsWith(".sql")).Order(StringComparer.Ordinal))
        {
            using var reader = new StreamReader(assembly.GetManifestResourceStream(name)!);
            yield return (name[prefix.Length..^4], reader.ReadToEnd());
        }
    }
}

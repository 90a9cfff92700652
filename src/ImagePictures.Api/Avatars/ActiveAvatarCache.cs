using System.Collections.Concurrent;
using Dapper;
using ImagePictures.Api.Realtime;
using Microsoft.Extensions.Options;
using Npgsql;
using Polly;

namespace ImagePictures.Api.Avatars;

/// <summary>
/// User → active picture, so that GET /avatars does not query the database per request.
/// <list type="bullet">
/// <item>A bounded, scan-resistant cache (<see cref="PictureLookupCache{TKey}"/>) that keeps users
/// without a picture too.</item>
/// <item>An index of every user who may have an active picture, loaded once after the event relay
/// listens and widened by every change: a user not in it is answered without a lookup. It only
/// ever says "maybe" too often, never "no" wrongly; past <see cref="AvatarOptions.IndexLimit"/>
/// users it is dropped and the cache alone answers.</item>
/// </list>
/// Every change invalidates its user (on this instance directly, on the others through the event
/// relay).
/// </summary>
public sealed class ActiveAvatarCache(NpgsqlDataSource db, VariantTable table, IOptions<AvatarOptions> options, Operations.PicturesMetrics metrics, ILogger<ActiveAvatarCache> log)
{
    private const string ActiveSql = """
        SELECT p.id AS PictureId, p.content_hash AS ContentHash, p.has_alpha AS HasAlpha
        FROM active_pictures a JOIN pictures p ON p.id = a.picture_id
        WHERE a.user_id = @userId AND p.deleted_at IS NULL
        """;

    private readonly PictureLookupCache<string> _cache = new(options.Value.CacheEntries, StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _index = new(StringComparer.Ordinal);
    private readonly int _indexLimit = options.Value.IndexLimit;
    private volatile bool _indexComplete, _indexDropped;
    private long _indexCount;

    private sealed record ActiveRow(Guid PictureId, string ContentHash, bool HasAlpha);

    /// <summary>Database lookups made so far (tests and benchmarks read it).</summary>
    internal long Queries => _cache.Queries;

    /// <summary>True once the index holds every user with an active picture.</summary>
    internal bool IndexComplete => _indexComplete;

    public ValueTask<LivePicture?> GetAsync(string userId, CancellationToken ct)
    {
        if (_indexComplete && !_index.ContainsKey(userId)) return ValueTask.FromResult<LivePicture?>(null);
        var hit = _cache.TryGet(userId, out var cached);
        metrics.AvatarCacheLookup(hit);
        return hit ? ValueTask.FromResult(cached) : _cache.LoadAsync(userId, async token =>
        {
            await using var conn = await db.OpenConnectionAsync(token);
            var row = await conn.QuerySingleOrDefaultAsync<ActiveRow>(new CommandDefinition(ActiveSql, new { userId }, cancellationToken: token));
            return row is null ? null : new LivePicture(userId, row.PictureId, row.ContentHash, row.HasAlpha, table.Count);
        }, ct);
    }

    /// <summary>After a change of this user's pictures has committed (here or, through the relay, elsewhere).</summary>
    public void Invalidate(string userId)
    {
        AddToIndex(userId);
        _cache.Remove(userId);
    }

    /// <summary>
    /// Fills the index from active_pictures. Called once the event relay listens, so that every
    /// activation is either in this snapshot or arrives later as an event (which widens the index).
    /// </summary>
    internal async Task LoadIndexAsync(CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        var count = await conn.ExecuteScalarAsync<long>(new CommandDefinition("SELECT count(*) FROM active_pictures", cancellationToken: ct));
        if (count > _indexLimit)
        {
            DropIndex();
            return;
        }
        await using var reader = await conn.ExecuteReaderAsync(new CommandDefinition("SELECT user_id FROM active_pictures", cancellationToken: ct));
        while (await reader.ReadAsync(ct)) AddToIndex(reader.GetString(0));
        if (_indexDropped) return;
        _indexComplete = true;
        log.LogInformation("Avatar index loaded: {Count} users with an active picture", Interlocked.Read(ref _indexCount));
    }

    private void AddToIndex(string userId)
    {
        if (_indexDropped || !_index.TryAdd(userId, 0)) return;
        if (Interlocked.Increment(ref _indexCount) > _indexLimit) DropIndex();
    }

    private void DropIndex()
    {
        if (_indexDropped) return;
        _indexDropped = true;
        _indexComplete = false;
        _index.Clear();
        log.LogInformation("More than {Limit} users have an active picture (Avatars:IndexLimit); avatars are looked up through the cache alone", _indexLimit);
    }
}

/// <summary>Loads the avatar index and the e-mail hash index once the event relay listens; retries while the database is away.</summary>
public sealed class ActiveAvatarIndexLoader(EventRelay relay, ActiveAvatarCache avatars, Gravatar.EmailHashIndex emails, ILogger<ActiveAvatarIndexLoader> log) : BackgroundService
{
    /// <summary>Until it works or the service stops: after 1 s, then twice as long each time, at most a minute.</summary>
    private readonly ResiliencePipeline _retry = Hosting.RetryUntilStopped.Pipeline(TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(1),
        e => e is NpgsqlException or TimeoutException or InvalidOperationException,
        (e, delay) => log.LogWarning(e, "Could not load the avatar index; retrying in {Delay} s (until then every avatar is looked up)", delay.TotalSeconds));

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await relay.Listening.WaitAsync(stoppingToken);
        await _retry.ExecuteAsync(async ct =>
        {
            await avatars.LoadIndexAsync(ct);
            await emails.LoadAsync(ct);
        }, stoppingToken);
    }
}

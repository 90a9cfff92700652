using System.Collections.Concurrent;
using System.Globalization;
using BitFaster.Caching.Lfu;
using BitFaster.Caching.Scheduler;
using Dapper;
using ImagePictures.Api.Avatars;
using ImagePictures.Api.Realtime;
using Microsoft.Extensions.Options;
using Npgsql;

namespace ImagePictures.Api.Gravatar;

/// <summary>
/// E-mail hash → user, beside <see cref="ActiveAvatarCache"/>'s index, so that /avatar/{hash} makes no
/// database query per request.
/// <list type="bullet">
/// <item>Every registered hash is held in memory, loaded once after the event relay listens and kept
/// exact by the events (EmailsChanged carries a user's whole set, account deletion empties it), on this
/// instance directly and on the others through the relay. A hash not in it is answered at once and
/// nothing is stored for it, so a flood of random hashes costs no memory and evicts nothing.</item>
/// <item>Until it is loaded, and past Avatars:EmailIndexLimit addresses (when it is dropped), lookups
/// go to the database: found hashes are kept in one scan-resistant cache and unknown ones in another, so
/// misses never push hits out.</item>
/// </list>
/// Keys are the first 128 bits of the hash, in a map per kind (MD5, SHA-256).
/// </summary>
public sealed class EmailHashIndex(NpgsqlDataSource db, IOptions<AvatarOptions> options, ILogger<EmailHashIndex> log)
{
    private const string FindSql = "SELECT user_id FROM user_emails WHERE md5 = @hash OR sha256 = @hash";

    private readonly object _gate = new();
    private readonly ConcurrentDictionary<UInt128, string> _md5 = new(), _sha256 = new();
    private readonly Dictionary<string, EmailHash[]> _byUser = new(StringComparer.Ordinal);
    private readonly HashSet<string> _changedWhileLoading = new(StringComparer.Ordinal);
    // The sets this instance replaced before the relay delivered the change's event, oldest first (see PreviousHashesAsync).
    private readonly Dictionary<string, Queue<EmailHash[]>> _replacedAhead = new(StringComparer.Ordinal);
    // The seq of the newest change of each user's set applied here: the relay may deliver an older change
    // after this instance applied a newer one directly, and must not put the older set back.
    private readonly Dictionary<string, long> _appliedSeq = new(StringComparer.Ordinal);
    private readonly int _limit = options.Value.EmailIndexLimit;
    private readonly ConcurrentLfu<string, string> _found = new(Environment.ProcessorCount, Math.Max(3, options.Value.CacheEntries), new ThreadPoolScheduler(), StringComparer.Ordinal);
    private readonly ConcurrentLfu<string, bool> _unknown = new(Environment.ProcessorCount, Math.Max(3, options.Value.CacheEntries), new ThreadPoolScheduler(), StringComparer.Ordinal);
    private volatile bool _complete, _loading, _dropped;
    private long _generation, _queries;

    /// <summary>Database lookups made so far (tests and benchmarks read it).</summary>
    internal long Queries => Interlocked.Read(ref _queries);

    internal bool IndexComplete => _complete;

    /// <summary>The user who registered this address, or null. <paramref name="hash"/>: 32 or 64 lower-case hex digits.</summary>
    public ValueTask<string?> FindAsync(string hash, CancellationToken ct)
    {
        if (_complete)
            return ValueTask.FromResult((hash.Length == 32 ? _md5 : _sha256).TryGetValue(Key(hash), out var user) ? user : null);
        if (_found.TryGet(hash, out var cached)) return ValueTask.FromResult<string?>(cached);
        if (_unknown.TryGet(hash, out _)) return ValueTask.FromResult<string?>(null);
        return LookUpAsync(hash, ct);
    }

    private async ValueTask<string?> LookUpAsync(string hash, CancellationToken ct)
    {
        var generation = Interlocked.Read(ref _generation);
        Interlocked.Increment(ref _queries);
        await using var conn = await db.OpenConnectionAsync(ct);
        var user = await conn.QuerySingleOrDefaultAsync<string>(new CommandDefinition(FindSql, new { hash }, cancellationToken: ct));
        if (Interlocked.Read(ref _generation) == generation)
        {
            if (user is null) _unknown.AddOrUpdate(hash, true);
            else _found.AddOrUpdate(hash, user);
            if (Interlocked.Read(ref _generation) != generation) { _unknown.TryRemove(hash); _found.TryRemove(hash); }
        }
        return user;
    }

    /// <summary>
    /// The user's registered hashes, for the relay's hash watchers: from memory once loaded, else from the database
    /// (where an account already deleted has none left, so its hash watchers then hear nothing).
    /// </summary>
    public async ValueTask<IReadOnlyList<EmailHash>> HashesOfAsync(string userId, CancellationToken ct)
    {
        if (_complete)
            lock (_gate) return _byUser.TryGetValue(userId, out var held) ? held : [];
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<EmailHash>(new CommandDefinition(
            "SELECT md5, sha256 FROM user_emails WHERE user_id = @userId", new { userId }, cancellationToken: ct))).ToList();
    }

    /// <summary>
    /// For the relay, before it applies an EmailsChanged or UserPicturesDeleted of the user: the hashes the user had
    /// before that change. This instance updates the index as soon as its own change commits (<see cref="SetUser"/>),
    /// so the set it replaced then is kept for the relay; otherwise the index still holds it.
    /// </summary>
    public ValueTask<IReadOnlyList<EmailHash>> PreviousHashesAsync(string userId, CancellationToken ct)
    {
        lock (_gate)
            if (_replacedAhead.TryGetValue(userId, out var queue))
            {
                var old = queue.Dequeue();
                if (queue.Count == 0) _replacedAhead.Remove(userId);
                return ValueTask.FromResult<IReadOnlyList<EmailHash>>(old);
            }
        return HashesOfAsync(userId, ct);
    }

    /// <summary>What the event relay does with every event, from whichever instance; a change older than one applied already is passed over.</summary>
    public void Apply(PictureEvent e)
    {
        if (e.Type is not (EventTypes.EmailsChanged or EventTypes.UserPicturesDeleted)) return;
        lock (_gate)
        {
            if (!IsNewest(e.UserId, e.Seq)) return;
            Replace(e.UserId, e.Type == EventTypes.EmailsChanged ? e.Emails ?? [] : []);
        }
    }

    /// <summary>
    /// After a change of the user's addresses (or the account's deletion) committed on this instance as event
    /// <paramref name="seq"/>: <paramref name="emails"/> is the user's whole set now.
    /// </summary>
    public void SetUser(string userId, IReadOnlyList<EmailHash> emails, long seq)
    {
        lock (_gate)
        {
            if (!IsNewest(userId, seq)) return; // the relay was first, with this change or a newer one
            // Ahead of the relay: keep the set replaced for its hash watchers.
            if (_complete && _byUser.TryGetValue(userId, out var held) is var known && !(held ?? []).ToHashSet().SetEquals(emails))
            {
                if (!_replacedAhead.TryGetValue(userId, out var queue)) _replacedAhead[userId] = queue = new();
                if (queue.Count < 16) queue.Enqueue(known ? held! : []);
            }
            Replace(userId, emails);
        }
    }

    private bool IsNewest(string userId, long seq)
    {
        if (_appliedSeq.TryGetValue(userId, out var applied) && applied >= seq) return false;
        _appliedSeq[userId] = seq;
        return true;
    }

    private void Replace(string userId, IReadOnlyList<EmailHash> emails)
    {
        lock (_gate)
        {
            Interlocked.Increment(ref _generation);
            if (_loading) _changedWhileLoading.Add(userId);
            if (_byUser.Remove(userId, out var old))
                foreach (var h in old)
                {
                    _md5.TryRemove(new KeyValuePair<UInt128, string>(Key(h.Md5), userId));
                    _sha256.TryRemove(new KeyValuePair<UInt128, string>(Key(h.Sha256), userId));
                    Forget(h);
                }
            foreach (var h in emails) Forget(h);
            if (_dropped || emails.Count == 0) return;
            _byUser[userId] = emails.ToArray();
            foreach (var h in emails)
            {
                _md5[Key(h.Md5)] = userId;
                _sha256[Key(h.Sha256)] = userId;
            }
            if (_md5.Count > _limit) Drop();
        }
    }

    private void Forget(EmailHash h)
    {
        _found.TryRemove(h.Md5); _found.TryRemove(h.Sha256);
        _unknown.TryRemove(h.Md5); _unknown.TryRemove(h.Sha256);
    }

    /// <summary>Fills the map from user_emails; called once the event relay listens (see <see cref="ActiveAvatarIndexLoader"/>).</summary>
    internal async Task LoadAsync(CancellationToken ct)
    {
        lock (_gate) { _loading = true; _changedWhileLoading.Clear(); }
        try
        {
            await using var conn = await db.OpenConnectionAsync(ct);
            if (await conn.ExecuteScalarAsync<long>(new CommandDefinition("SELECT count(*) FROM user_emails", cancellationToken: ct)) > _limit)
            {
                lock (_gate) Drop();
                return;
            }
            var rows = await conn.QueryAsync<(string UserId, string Md5, string Sha256)>(
                new CommandDefinition("SELECT user_id, md5, sha256 FROM user_emails ORDER BY user_id", cancellationToken: ct));
            lock (_gate)
            {
                // A user changed meanwhile has its newer set from the event already; the snapshot may be older.
                foreach (var user in rows.GroupBy(r => r.UserId))
                    if (!_changedWhileLoading.Contains(user.Key) && !_dropped)
                        SetUserLoaded(user.Key, user.Select(r => new EmailHash(r.Md5, r.Sha256)).ToArray());
                if (_dropped) return;
                _complete = true;
                log.LogInformation("E-mail hash index loaded: {Count} addresses", _md5.Count);
            }
        }
        finally
        {
            lock (_gate) _loading = false;
        }
    }

    private void SetUserLoaded(string userId, EmailHash[] emails)
    {
        _byUser[userId] = emails;
        foreach (var h in emails)
        {
            _md5[Key(h.Md5)] = userId;
            _sha256[Key(h.Sha256)] = userId;
        }
        if (_md5.Count > _limit) Drop();
    }

    private void Drop()
    {
        if (_dropped) return;
        _dropped = true;
        _complete = false;
        _md5.Clear(); _sha256.Clear(); _byUser.Clear();
        log.LogInformation("More than {Limit} e-mail addresses are registered (Avatars:EmailIndexLimit); /avatar/{{hash}} looks them up through its caches", _limit);
    }

    /// <summary>The first 128 bits of a lower-case hex hash.</summary>
    private static UInt128 Key(string hex) => UInt128.Parse(hex.AsSpan(0, 32), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
}

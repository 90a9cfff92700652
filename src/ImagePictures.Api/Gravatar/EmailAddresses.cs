using System.Security.Cryptography;
using System.Text;
using Dapper;
using ImagePictures.Api.EventLog;
using ImagePictures.Api.Users;
using Npgsql;

namespace ImagePictures.Api.Gravatar;

/// <summary>
/// The e-mail addresses users registered, stored as their MD5 and SHA-256 only (of the trimmed,
/// lower-cased address, as Gravatar and Libravatar hash it). Every change is recorded as EmailsChanged
/// in its own transaction, and applied to this instance's <see cref="EmailHashIndex"/> once committed.
/// </summary>
public sealed class EmailAddresses(NpgsqlDataSource db, UserChanges changes, EmailHashIndex index)
{
    public const int MaxPerUser = 10;

    private const string ListSql = "SELECT md5 AS Md5, sha256 AS Sha256, added_at AS AddedAt FROM user_emails WHERE user_id = @userId ORDER BY added_at, sha256";

    public sealed record EmailJson(string Md5, string Sha256, DateTime AddedAt);

    /// <summary>Thrown when an address is registered by another user (409; never says by whom).</summary>
    public sealed class HeldByAnotherUserException() : Exception("One of these addresses is registered by another user. Remove it there first, or leave it out.");

    public static EmailHash Hash(string email)
    {
        var normalized = Encoding.UTF8.GetBytes(email.Trim().ToLowerInvariant());
        return new EmailHash(Convert.ToHexStringLower(MD5.HashData(normalized)), Convert.ToHexStringLower(SHA256.HashData(normalized)));
    }

    /// <summary>A single address without a display name, as <c>local@domain</c>, at most 254 characters.</summary>
    public static bool IsValid(string? email)
    {
        var trimmed = email?.Trim();
        return trimmed is { Length: > 2 and <= 254 } && !trimmed.Contains(' ') && trimmed.IndexOf('@') is > 0 and var at && at < trimmed.Length - 1
               && System.Net.Mail.MailAddress.TryCreate(trimmed, out var parsed) && parsed.Address == trimmed && parsed.DisplayName.Length == 0;
    }

    /// <summary>32 or 64 hex digits, in either case, as lower case; else null.</summary>
    public static string? NormalizeHash(string? hash) =>
        hash is { Length: 32 or 64 } && hash.All(char.IsAsciiHexDigit) ? hash.ToLowerInvariant() : null;

    public async Task<List<EmailJson>> ListAsync(string userId, CancellationToken ct)
    {
        await using var conn = await db.OpenConnectionAsync(ct);
        return (await conn.QueryAsync<EmailJson>(new CommandDefinition(ListSql, new { userId }, cancellationToken: ct))).Select(Utc).ToList();
    }

    /// <summary>Replaces the user's set with these (valid, at most <see cref="MaxPerUser"/>) addresses.</summary>
    public async Task<List<EmailJson>> ReplaceAsync(string userId, IReadOnlyCollection<string> emails, CancellationToken ct)
    {
        var hashes = emails.Select(Hash).DistinctBy(h => h.Sha256).ToArray();
        var shas = hashes.Select(h => h.Sha256).ToArray();
        return await ChangeAsync(userId, async (conn, tx) =>
        {
            if (await conn.ExecuteScalarAsync<bool>("SELECT EXISTS (SELECT 1 FROM user_emails WHERE sha256 = ANY(@shas) AND user_id <> @userId)", new { shas, userId }, tx))
                throw new HeldByAnotherUserException();
            var removed = await conn.ExecuteAsync("DELETE FROM user_emails WHERE user_id = @userId AND NOT (sha256 = ANY(@shas))", new { userId, shas }, tx);
            var added = await conn.ExecuteAsync("""
                INSERT INTO user_emails (sha256, md5, user_id)
                SELECT s, m, @userId FROM unnest(@shas, @md5s) AS t(s, m)
                ON CONFLICT (sha256) DO NOTHING
                """, new { userId, shas, md5s = hashes.Select(h => h.Md5).ToArray() }, tx);
            return removed + added > 0;
        }, ct);
    }

    /// <summary>Removes one address by either hash; false when the user has no such address.</summary>
    public async Task<bool> RemoveAsync(string userId, string hash, CancellationToken ct)
    {
        var found = false;
        await ChangeAsync(userId, async (conn, tx) =>
        {
            found = await conn.ExecuteAsync("DELETE FROM user_emails WHERE user_id = @userId AND (md5 = @hash OR sha256 = @hash)", new { userId, hash }, tx) > 0;
            return found;
        }, ct);
        return found;
    }

    /// <summary>
    /// Registers a verified address from the caller's token, unless the user holds it already, another
    /// user does, or the user has <see cref="MaxPerUser"/> addresses. Never moves an address.
    /// </summary>
    public Task ClaimAsync(string userId, EmailHash hash, CancellationToken ct) => ChangeAsync(userId, async (conn, tx) =>
        await conn.ExecuteAsync("""
            INSERT INTO user_emails (sha256, md5, user_id)
            SELECT @Sha256, @Md5, @userId
            WHERE (SELECT count(*) FROM user_emails WHERE user_id = @userId) < @max
            ON CONFLICT DO NOTHING
            """, new { hash.Sha256, hash.Md5, userId, max = MaxPerUser }, tx) > 0, ct);

    /// <summary>
    /// Runs a change under the user's lock; when it changed something, records EmailsChanged with the
    /// user's whole set, commits, and updates this instance's index. A concurrent registration of the
    /// same address by another user surfaces as <see cref="HeldByAnotherUserException"/>.
    /// </summary>
    private async Task<List<EmailJson>> ChangeAsync(string userId, Func<NpgsqlConnection, NpgsqlTransaction, Task<bool>> change, CancellationToken ct)
    {
        await using var userChange = await changes.BeginAsync(userId, ct);
        var (conn, tx) = (userChange.Connection, userChange.Transaction);
        bool changed;
        try { changed = await change(conn, tx); }
        catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.UniqueViolation) { throw new HeldByAnotherUserException(); }
        var now = (await conn.QueryAsync<EmailJson>(ListSql, new { userId }, tx)).Select(Utc).ToList();
        var hashes = now.Select(e => new EmailHash(e.Md5, e.Sha256)).ToList();
        var seq = changed ? await EventWriter.AppendEmailsChangedAsync(tx, userId, hashes) : 0;
        await userChange.CommitAsync(ct);
        if (changed) index.SetUser(userId, hashes, seq);
        return now;
    }

    private static EmailJson Utc(EmailJson e) => e with { AddedAt = DateTime.SpecifyKind(e.AddedAt, DateTimeKind.Utc) };
}

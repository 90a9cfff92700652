using Dapper;
using ImagePictures.Api.EventLog;
using ImagePictures.Api.Pictures;
using Npgsql;

namespace ImagePictures.Api.Users;

/// <summary>
/// Opens a change to one user's data: a transaction holding the user's lock to its end, so that the
/// changes of one user (pictures, trash, staged uploads, e-mail addresses, account deletion) run one
/// at a time, with the change's events recorded in the same transaction, so a rolled-back change
/// has none. Disposing without <see cref="UserChange.CommitAsync"/> rolls back.
/// </summary>
public sealed class UserChanges(NpgsqlDataSource db)
{
    private const string LockUserSql = "SELECT pg_advisory_xact_lock(hashtextextended(@userId, 7))";

    public async Task<UserChange> BeginAsync(string userId, CancellationToken ct)
    {
        var conn = await db.OpenConnectionAsync(ct);
        try
        {
            var tx = await conn.BeginTransactionAsync(ct);
            await conn.ExecuteAsync(LockUserSql, new { userId }, tx);
            return new UserChange(conn, tx, userId);
        }
        catch
        {
            await conn.DisposeAsync();
            throw;
        }
    }
}

/// <summary>One open change of a user; see <see cref="UserChanges"/>.</summary>
public sealed class UserChange(NpgsqlConnection connection, NpgsqlTransaction transaction, string userId) : IAsyncDisposable
{
    public string UserId => userId;
    public NpgsqlConnection Connection => connection;
    public NpgsqlTransaction Transaction => transaction;

    public Task<int> ExecuteAsync(string sql, object? args = null) => connection.ExecuteAsync(sql, args, transaction);
    public Task<T?> ScalarAsync<T>(string sql, object? args = null) => connection.ExecuteScalarAsync<T>(sql, args, transaction);
    public Task<IEnumerable<T>> QueryAsync<T>(string sql, object? args = null) => connection.QueryAsync<T>(sql, args, transaction);

    /// <summary>Records an event of this user, committed with the change or not at all.</summary>
    public Task<long> RecordAsync(string type, Guid? pictureId, PictureJson? picture) =>
        EventWriter.AppendAsync(transaction, type, userId, pictureId, picture);

    public Task CommitAsync(CancellationToken ct) => transaction.CommitAsync(ct);

    public async ValueTask DisposeAsync()
    {
        await transaction.DisposeAsync();
        await connection.DisposeAsync();
    }
}

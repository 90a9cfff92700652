using System.Text.Json;
using Dapper;
using Npgsql;

namespace ImagePictures.Api.EventLog;

/// <summary>
/// Records an event in the transaction of the change it reports, and notifies listeners in that
/// same transaction: a rolled-back change has no event and no notification. The notification
/// carries only the seq; listeners read the row (<see cref="EventRow"/>).
/// </summary>
public static class EventWriter
{
    public const string Channel = "picture_events";

    private const string AppendSql = """
        WITH e AS (
            INSERT INTO events (user_id, type, picture_id, payload)
            VALUES (@userId, @type, @pictureId, CAST(@payload AS jsonb))
            RETURNING seq)
        SELECT seq, pg_notify('picture_events', seq::text) IS NULL FROM e
        """;

    public static async Task<long> AppendAsync(NpgsqlTransaction tx, string type, string userId, Guid? pictureId, PictureJson? picture)
    {
        var payload = picture is null ? null : JsonSerializer.Serialize(picture, EventRow.Json);
        return await tx.Connection!.QuerySingleAsync<long>(AppendSql, new { userId, type, pictureId, payload }, tx);
    }

    /// <summary>EmailsChanged: the user's registered hashes after the change, no address.</summary>
    public static async Task<long> AppendEmailsChangedAsync(NpgsqlTransaction tx, string userId, IReadOnlyList<EmailHash> emails)
    {
        var payload = JsonSerializer.Serialize(new EventRow.EmailsPayload(emails), EventRow.Json);
        return await tx.Connection!.QuerySingleAsync<long>(AppendSql, new { userId, type = EventTypes.EmailsChanged, pictureId = (Guid?)null, payload }, tx);
    }

    /// <summary>One event of the same type per picture, in one statement: a purge batch costs one round trip, not one per row.</summary>
    public static async Task AppendManyAsync(NpgsqlTransaction tx, string type, IReadOnlyList<(Guid PictureId, string UserId)> pictures)
    {
        if (pictures.Count == 0) return;
        await tx.Connection!.ExecuteAsync("""
            WITH e AS (
                INSERT INTO events (user_id, type, picture_id)
                SELECT u, @type, p FROM unnest(@userIds, @pictureIds) AS t(u, p)
                RETURNING seq)
            SELECT count(pg_notify('picture_events', seq::text)) FROM e
            """, new { type, userIds = pictures.Select(p => p.UserId).ToArray(), pictureIds = pictures.Select(p => p.PictureId).ToArray() }, tx);
    }
}

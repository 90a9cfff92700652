using System.ComponentModel.DataAnnotations;
using System.Text.Json;
using Dapper;
using ImagePictures.Api.Pictures;
using Npgsql;

namespace ImagePictures.Api.Realtime;

/// <summary>The server-to-client event names of the contract, each with one <see cref="PictureEvent"/> argument.</summary>
public static class EventTypes
{
    public const string PictureUploaded = nameof(PictureUploaded);
    public const string PictureUpdated = nameof(PictureUpdated);
    public const string ActivePictureChanged = nameof(ActivePictureChanged);
    public const string PictureTrashed = nameof(PictureTrashed);
    public const string PictureRestored = nameof(PictureRestored);
    public const string PicturePurged = nameof(PicturePurged);
    public const string UserPicturesDeleted = nameof(UserPicturesDeleted);
}

public sealed record PictureEvent(
    long Seq,
    [property: AllowedValues(EventTypes.PictureUploaded, EventTypes.PictureUpdated, EventTypes.ActivePictureChanged, EventTypes.PictureTrashed,
        EventTypes.PictureRestored, EventTypes.PicturePurged, EventTypes.UserPicturesDeleted)] string Type,
    string UserId, Guid? PictureId, DateTime OccurredAt, PictureJson? Picture);

/// <summary>
/// Records an event in the transaction of the change it reports, and notifies listeners in that
/// same transaction: a rolled-back change has no event and no notification. The notification
/// carries only the seq; listeners read the row.
/// </summary>
public static class EventLog
{
    public const string Channel = "picture_events";
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private const string AppendSql = """
        WITH e AS (
            INSERT INTO events (user_id, type, picture_id, payload)
            VALUES (@userId, @type, @pictureId, CAST(@payload AS jsonb))
            RETURNING seq)
        SELECT seq, pg_notify('picture_events', seq::text) IS NULL FROM e
        """;

    public static async Task<long> AppendAsync(NpgsqlTransaction tx, string type, string userId, Guid? pictureId, PictureJson? picture)
    {
        var payload = picture is null ? null : JsonSerializer.Serialize(picture, Json);
        return await tx.Connection!.QuerySingleAsync<long>(AppendSql, new { userId, type, pictureId, payload }, tx);
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

    public const string SelectColumns = "seq AS Seq, type AS Type, user_id AS UserId, picture_id AS PictureId, occurred_at AS OccurredAt, payload::text AS Payload";

    public static PictureEvent FromRow(EventRow r) => new(
        r.Seq, r.Type, r.UserId, r.PictureId, DateTime.SpecifyKind(r.OccurredAt, DateTimeKind.Utc),
        r.Payload is null ? null : JsonSerializer.Deserialize<PictureJson>(r.Payload, Json));

    public sealed record EventRow(long Seq, string Type, string UserId, Guid? PictureId, DateTime OccurredAt, string? Payload);
}

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
    public const string EmailsChanged = nameof(EmailsChanged);
}

/// <summary>One registered e-mail address, as its hashes (the address is never stored).</summary>
public sealed record EmailHash(string Md5, string Sha256);

/// <summary>An event of the log. <see cref="Emails"/>: on <see cref="EventTypes.EmailsChanged"/> only, the user's whole set after the change.</summary>
public sealed record PictureEvent(
    long Seq,
    [property: AllowedValues(EventTypes.PictureUploaded, EventTypes.PictureUpdated, EventTypes.ActivePictureChanged, EventTypes.PictureTrashed,
        EventTypes.PictureRestored, EventTypes.PicturePurged, EventTypes.UserPicturesDeleted, EventTypes.EmailsChanged)] string Type,
    string UserId, Guid? PictureId, DateTime OccurredAt, PictureJson? Picture,
    [property: System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyList<EmailHash>? Emails = null);

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

    /// <summary>EmailsChanged: the user's registered hashes after the change, no address.</summary>
    public static async Task<long> AppendEmailsChangedAsync(NpgsqlTransaction tx, string userId, IReadOnlyList<EmailHash> emails)
    {
        var payload = JsonSerializer.Serialize(new EmailsPayload(emails), Json);
        return await tx.Connection!.QuerySingleAsync<long>(AppendSql, new { userId, type = EventTypes.EmailsChanged, pictureId = (Guid?)null, payload }, tx);
    }

    private sealed record EmailsPayload(IReadOnlyList<EmailHash> Emails);

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

    public static PictureEvent FromRow(EventRow r)
    {
        var at = DateTime.SpecifyKind(r.OccurredAt, DateTimeKind.Utc);
        if (r.Type == EventTypes.EmailsChanged)
            return new(r.Seq, r.Type, r.UserId, null, at, null, r.Payload is null ? [] : JsonSerializer.Deserialize<EmailsPayload>(r.Payload, Json)!.Emails);
        return new(r.Seq, r.Type, r.UserId, r.PictureId, at, r.Payload is null ? null : JsonSerializer.Deserialize<PictureJson>(r.Payload, Json));
    }

    public sealed record EventRow(long Seq, string Type, string UserId, Guid? PictureId, DateTime OccurredAt, string? Payload);
}

using System.Text.Json;

namespace ImagePictures.Api.EventLog;

/// <summary>A row of the events table as read with <see cref="SelectColumns"/>; <see cref="ToEvent"/> makes the contract's event of it.</summary>
public sealed record EventRow(long Seq, string Type, string UserId, Guid? PictureId, DateTime OccurredAt, string? Payload)
{
    public const string SelectColumns = "seq AS Seq, type AS Type, user_id AS UserId, picture_id AS PictureId, occurred_at AS OccurredAt, payload::text AS Payload";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <summary>The payload of EmailsChanged (every other payload is the picture).</summary>
    internal sealed record EmailsPayload(IReadOnlyList<EmailHash> Emails);

    public PictureEvent ToEvent()
    {
        var at = DateTime.SpecifyKind(OccurredAt, DateTimeKind.Utc);
        if (Type == EventTypes.EmailsChanged)
            return new(Seq, Type, UserId, null, at, null, Payload is null ? [] : JsonSerializer.Deserialize<EmailsPayload>(Payload, Json)!.Emails);
        return new(Seq, Type, UserId, PictureId, at, Payload is null ? null : JsonSerializer.Deserialize<PictureJson>(Payload, Json));
    }
}

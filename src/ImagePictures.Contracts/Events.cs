using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace ImagePictures.Contracts;

/// <summary>
/// The event types: the <c>type</c> of every <see cref="PictureEvent"/>, the names of the hub's server-to-client
/// methods (<see cref="IPicturesClient"/>), and the names webhooks and RabbitMQ publish under.
/// </summary>
public static class EventTypes
{
    public const string PictureUploaded = nameof(PictureUploaded);
    public const string PictureUpdated = nameof(PictureUpdated);
    public const string ActivePictureChanged = nameof(ActivePictureChanged);
    public const string PictureTrashed = nameof(PictureTrashed);
    public const string PictureRestored = nameof(PictureRestored);
    public const string PicturePurged = nameof(PicturePurged);
    public const string UserPicturesDeleted = nameof(UserPicturesDeleted);
    /// <summary>To the owner only: the hashes of the user's registered e-mail addresses changed.</summary>
    public const string EmailsChanged = nameof(EmailsChanged);

    public static readonly IReadOnlyList<string> All =
        [PictureUploaded, PictureUpdated, ActivePictureChanged, PictureTrashed, PictureRestored, PicturePurged, UserPicturesDeleted, EmailsChanged];

    /// <summary>The events a watcher of another user or of an e-mail hash hears: avatar changes and account deletion.</summary>
    public static readonly IReadOnlyList<string> ForWatchers = [ActivePictureChanged, UserPicturesDeleted];
}

/// <summary>One registered e-mail address, as its hashes (the address is never stored).</summary>
public sealed record EmailHash(string Md5, string Sha256);

/// <summary>
/// An event of the log, as the hub sends it to the owner (and admins watching) and the events route returns it.
/// <see cref="Emails"/>: on <see cref="EventTypes.EmailsChanged"/> only, the user's whole set after the change.
/// </summary>
public sealed record PictureEvent(
    long Seq,
    // The same list as EventTypes.All: an attribute argument must be a constant. The OpenAPI document makes it the enum.
    [property: AllowedValues(EventTypes.PictureUploaded, EventTypes.PictureUpdated, EventTypes.ActivePictureChanged, EventTypes.PictureTrashed,
        EventTypes.PictureRestored, EventTypes.PicturePurged, EventTypes.UserPicturesDeleted, EventTypes.EmailsChanged)] string Type,
    string UserId, Guid? PictureId, DateTime OccurredAt, PictureJson? Picture,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    IReadOnlyList<EmailHash>? Emails = null);

/// <summary>What a watcher who is not an admin hears: the event with the picture reduced to its public fields.</summary>
public sealed record PublicPictureEvent(long Seq, string Type, string UserId, Guid? PictureId, DateTime OccurredAt, PublicPicture? Picture)
{
    public static PublicPictureEvent From(PictureEvent e) => new(e.Seq, e.Type, e.UserId, e.PictureId, e.OccurredAt,
        e.Picture is { } p ? PublicPicture.From(p) : null);
}

/// <summary>
/// What a watcher of an e-mail hash hears: <see cref="UserId"/> is the hash watched, and the picture (null when
/// the avatar became a default) carries only its content hash, a version for /avatar/{hash}?v=…, so nothing names the user.
/// </summary>
public sealed record HashAvatarEvent(long Seq, string Type, string UserId, DateTime OccurredAt, HashAvatarPicture? Picture);

public sealed record HashAvatarPicture(string ContentHash);

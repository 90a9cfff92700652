namespace ImagePictures.Client;

/// <summary>A picture as the service describes it. Anonymous watchers receive only Id, UserId, ContentHash and Urls; watchers of an e-mail hash only ContentHash.</summary>
public sealed record Picture(
    Guid Id, string UserId, bool IsActive, bool IsDefault, int Width, int Height, long Bytes, string ContentHash,
    string? Title, DateTime CreatedAt, DateTime? DeletedAt, DateTime? PurgeAfter, IReadOnlyDictionary<string, string> Urls);

/// <summary>The answer of <see cref="ImagePicturesClient.CreateDefaultPictureAsync"/>: the picture, and whether this call created it.</summary>
public sealed record DefaultPicture(Picture Picture, bool Created);

/// <summary>One event of the log, as the hub sends it and the events route returns it.</summary>
public sealed record PictureEvent(long Seq, string Type, string UserId, Guid? PictureId, DateTime OccurredAt, Picture? Picture,
    IReadOnlyList<EmailHash>? Emails = null);

/// <summary>One registered e-mail address, as its hashes (EmailsChanged carries the user's whole set).</summary>
public sealed record EmailHash(string Md5, string Sha256);

/// <summary>The event types.</summary>
public static class PictureEventTypes
{
    public const string PictureUploaded = nameof(PictureUploaded);
    public const string PictureUpdated = nameof(PictureUpdated);
    public const string ActivePictureChanged = nameof(ActivePictureChanged);
    public const string PictureTrashed = nameof(PictureTrashed);
    public const string PictureRestored = nameof(PictureRestored);
    public const string PicturePurged = nameof(PicturePurged);
    public const string UserPicturesDeleted = nameof(UserPicturesDeleted);
    /// <summary>To the owner only: the hashes of the user's e-mail addresses changed.</summary>
    public const string EmailsChanged = nameof(EmailsChanged);

    public static readonly IReadOnlyList<string> All =
        [PictureUploaded, PictureUpdated, ActivePictureChanged, PictureTrashed, PictureRestored, PicturePurged, UserPicturesDeleted, EmailsChanged];
}

/// <summary>A staged (two-step) upload.</summary>
public sealed record StagedUpload(string Id, DateTime ExpiresAt, int Width, int Height, string PreviewUrl);

/// <summary>A crop rectangle in staged-image pixels.</summary>
public sealed record CropRectangle(int X, int Y, int Width, int Height);

/// <summary>Counts of a clean-up: emptying the trash, an admin clean-up.</summary>
public sealed record CleanupResult(int Found, int Deleted, int Failed);

/// <summary>Bytes of an upload sent so far, and the total when the stream knows its length.</summary>
public readonly record struct UploadProgress(long BytesSent, long? TotalBytes);

/// <summary>A staged upload as admins list it.</summary>
public sealed record AdminStagedUpload(string Id, string UserId, DateTime CreatedAt, DateTime ExpiresAt, long Bytes);

/// <summary>A scheduled job as admins see it.</summary>
public sealed record JobInfo(string Name, string Cron, bool Paused, DateTime? NextRunAt, JobRun? LastRun);

/// <summary>One run of a job.</summary>
public sealed record JobRun(DateTime StartedAt, DateTime? FinishedAt, string Status, int? Found, int? Deleted, int? Failed, string? Error);

/// <summary>A webhook endpoint just registered; <see cref="Secret"/> signs its deliveries and is not shown again.</summary>
public sealed record CreatedWebhook(string Id, string Url, string[]? Events, string Secret, DateTime CreatedAt);

/// <summary>A webhook endpoint and its delivery status; null <see cref="Events"/> means every event type.</summary>
public sealed record Webhook(string Id, string Url, string[]? Events, DateTime CreatedAt, long LastDeliveredSeq, long PendingCount,
    DateTime? FailingSince, string? LastError, bool Disabled);

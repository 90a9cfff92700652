using System.ComponentModel.DataAnnotations;

namespace ImagePictures.Contracts;

/// <summary>A staged upload as admins list it.</summary>
public sealed record AdminUploadJson(Guid Id, string UserId, DateTime CreatedAt, DateTime ExpiresAt, long Bytes);

/// <summary>Counts of a clean-up: emptying the trash, an admin clean-up of staged uploads.</summary>
public sealed record CleanupCounts(int Found, int Deleted, int Failed);

/// <summary>A scheduled job as admins see it.</summary>
public sealed record JobJson(string Name, string Cron, bool Paused, DateTimeOffset? NextRunAt, JobRunJson? LastRun);

/// <summary>One run of a job.</summary>
public sealed record JobRunJson(long Id, DateTime StartedAt, DateTime? FinishedAt, string Node,
    [property: AllowedValues("running", "succeeded", "partial", "failed")] string Status, int Found, int Deleted, int Failed, string? Error);

/// <summary>The body of POST /api/admin/webhooks: null <see cref="Events"/> means every event type (<see cref="EventTypes.All"/>).</summary>
public sealed record CreateWebhookRequest(string? Url, string[]? Events = null);

/// <summary>A webhook endpoint just registered; <see cref="Secret"/> signs its deliveries and is not shown again.</summary>
public sealed record CreatedWebhookJson(string Id, string Url, string[]? Events, string Secret, DateTime CreatedAt);

/// <summary>A webhook endpoint and its delivery status; null <see cref="Events"/> means every event type.</summary>
public sealed record WebhookJson(
    string Id, string Url, string[]? Events, DateTime CreatedAt, long LastDeliveredSeq, long PendingCount,
    DateTime? FailingSince, string? LastError, bool Disabled);

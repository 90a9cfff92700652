namespace ImagePictures.Api.Uploads;

/// <summary>The admin clean-up actions on staged uploads, shared by the API and the dashboard.</summary>
public sealed class UploadCleanup(UploadSessions uploads)
{
    public const string DeleteAllConfirmation = "delete-all";
    /// <summary>Ten years: beyond it nothing is staged anyway, and TimeSpan would overflow near 2.5e9 hours.</summary>
    public const double MaxOlderThanHours = 24 * 365 * 10;

    public async Task<(CleanupCounts? Counts, string? Error)> RunAsync(string? action, double? olderThanHours, Guid? uploadId, string? confirm, CancellationToken ct)
    {
        switch (action)
        {
            case "list":
                return (new CleanupCounts((await uploads.ListAllAsync(ct)).Count, 0, 0), null);
            case "cleanup-old":
                var hours = olderThanHours ?? uploads.Ttl.TotalHours;
                if (!(hours is >= 0 and <= MaxOlderThanHours))
                    return (null, $"olderThanHours must be a number of hours from 0 to {MaxOlderThanHours:0} (ten years).");
                return (await uploads.DeleteAsync(await uploads.CreatedBeforeAsync(DateTime.UtcNow - TimeSpan.FromHours(hours), ct), ct), null);
            case "delete-session":
                if (uploadId is not { } id) return (null, "delete-session needs the uploadId of the session to delete.");
                var row = await uploads.FindAnyAsync(id, ct);
                return (row is null ? new CleanupCounts(0, 0, 0) : await uploads.DeleteAsync([row], ct), null);
            case "delete-all":
                if (confirm != DeleteAllConfirmation)
                    return (null, $"delete-all removes every staged upload of every user: send \"confirm\":\"{DeleteAllConfirmation}\" to do it.");
                return (await uploads.DeleteAsync(await uploads.ListAllAsync(ct), ct), null);
            default:
                return (null, "Unknown action: use \"list\", \"cleanup-old\" (olderThanHours), \"delete-session\" (uploadId) or \"delete-all\" (confirm).");
        }
    }
}

using ImagePictures.Api.Avatars;
using ImagePictures.Api.Storage;
using ImagePictures.Api.Uploads;

namespace ImagePictures.Api.Users;

/// <summary>Account deletion: everything of a user goes, as one <see cref="UserChange"/>.</summary>
public sealed class UserService(
    UserChanges changes, PictureStore store, UploadSessions uploads, ActiveAvatarCache avatars, LivePictureCache livePictures, ILogger<UserService> log)
{
    /// <summary>
    /// Every picture, live and trashed, every staged upload, the e-mail hashes, every file and the
    /// folder. Under the user lock before any file is touched, so no upload of this user publishes its
    /// folder or commits a staged upload meanwhile. The folder is detached in one rename, then the rows
    /// go; if they cannot, the folder is put back. The staged uploads' files go after their rows.
    /// Returns how many pictures went, and the seq of the deletion's event.
    /// </summary>
    public async Task<(int Deleted, long Seq)> DeleteAsync(string userId, CancellationToken ct)
    {
        await using var change = await changes.BeginAsync(userId, ct);
        var detached = await store.DetachUserAsync(userId, ct);
        int deleted;
        long seq;
        Guid[] staged;
        try
        {
            await change.ExecuteAsync("DELETE FROM active_pictures WHERE user_id = @userId", new { userId });
            deleted = await change.ExecuteAsync("DELETE FROM pictures WHERE user_id = @userId", new { userId });
            // Its e-mail hashes go with the account (UserPicturesDeleted tells every instance's hash index).
            await change.ExecuteAsync("DELETE FROM user_emails WHERE user_id = @userId", new { userId });
            staged = await UploadSessions.DeleteRowsOfUserAsync(change);
            seq = await change.RecordAsync(EventTypes.UserPicturesDeleted, null, null);
            await change.CommitAsync(ct);
        }
        catch when (detached is not null)
        {
            if (!store.ReattachUser(userId, detached))
                log.LogError("Account deletion of {UserId} failed after its folder was detached and it could not be put back; repeat the deletion", userId);
            throw;
        }
        if (detached is not null) store.RemoveDetached(detached);
        await uploads.DeleteFilesQuietlyAsync(staged);
        avatars.Invalidate(userId);
        livePictures.InvalidateUser(userId);
        return (deleted, seq);
    }
}

using ImagePictures.Api.Auth;
using ImagePictures.Api.Hosting;
using ImagePictures.Imaging;

namespace ImagePictures.Api.Storage;

public class StorageException(string message, Exception? inner = null) : Exception(message, inner);
public sealed class StorageFullException(Exception inner) : StorageException("The picture storage is full.", inner);

/// <summary>A stored file's bytes and when it was written.</summary>
public sealed record StoredFile(byte[] Bytes, DateTimeOffset LastModified);

/// <summary>
/// A folder found by a sweep: users/{UserId}/{Name} or temp/{Name}. Name is a picture or upload id,
/// or (file system only) a ".staging-{id}" / ".purging-{id}" leftover of an interrupted write or purge.
/// </summary>
public sealed record StoredFolder(string? UserId, string Name, DateTime LastWriteUtc)
{
    public Guid? Id => Guid.TryParseExact(Name, "D", out var id) ? id : null;
    public bool IsLeftover => PictureStore.IsLeftoverName(Name);
}

/// <summary>
/// Where a picture's bytes live: the file system (<see cref="FileSystemPictureStore"/>) or an
/// S3-compatible bucket (<see cref="S3PictureStore"/>). Every path and key is built here, from
/// validated user ids, server-made GUIDs and the pipeline's own file names only:
/// users/{userId}/{pictureId}/{file} and temp/{uploadId}/{file}. Writers put every file first and
/// commit the row after; deleters remove the files first and the row after. Failures surface as
/// <see cref="StorageException"/> (503) or <see cref="StorageFullException"/> (507).
/// </summary>
public abstract class PictureStore
{
    /// <summary>Which store this is, for logs and the readiness check.</summary>
    public abstract string Description { get; }

    /// <summary>Writes every file of a picture (the slow part, outside any lock); nothing is the user's before <see cref="PublishPictureAsync"/>.</summary>
    public abstract Task StagePictureAsync(string userId, Guid pictureId, IReadOnlyList<EncodedFile> files, CancellationToken ct);

    /// <summary>
    /// Makes a staged picture the user's, under the user lock just before its row commits, so that an
    /// account deletion (which takes the same lock) either takes the picture whole or leaves it whole.
    /// </summary>
    public abstract Task PublishPictureAsync(string userId, Guid pictureId, CancellationToken ct);

    /// <summary>Removes a staged picture that was not published (quota, default picture already there, failure).</summary>
    public abstract Task DiscardStagedPictureAsync(string userId, Guid pictureId);

    /// <summary>
    /// First step of an account deletion, under the user lock: every file of the user goes at once or
    /// none does. Answers a handle for <see cref="ReattachUser"/> (the rows could not be deleted) or
    /// <see cref="RemoveDetached"/> (they were), or null when nothing is left to do.
    /// </summary>
    public abstract Task<string?> DetachUserAsync(string userId, CancellationToken ct);
    public virtual bool ReattachUser(string userId, string detached) => true;
    public virtual void RemoveDetached(string detached) { }
    public abstract Task WriteUploadAsync(Guid uploadId, IReadOnlyList<EncodedFile> files, CancellationToken ct);

    /// <summary>The file, or null when it does not exist.</summary>
    public abstract Task<StoredFile?> ReadPictureFileAsync(string userId, Guid pictureId, string fileName, CancellationToken ct);
    public abstract Task<StoredFile?> ReadUploadFileAsync(Guid uploadId, string fileName, CancellationToken ct);

    /// <summary>Deletes every file of a picture; already gone counts as success, so a purge can always finish.</summary>
    public abstract Task DeletePictureAsync(string userId, Guid pictureId, CancellationToken ct);

    /// <summary>
    /// Deletes the files of many pictures and answers the ids whose files are gone; the others are
    /// logged and keep their rows. A cancelled token stops the deleting but still answers what is gone.
    /// </summary>
    public abstract Task<IReadOnlyCollection<Guid>> DeletePicturesAsync(IReadOnlyList<(Guid Id, string UserId)> pictures, CancellationToken ct);

    public abstract Task DeleteUploadAsync(Guid uploadId, CancellationToken ct);

    /// <summary>Every folder under users/{userId}/ of a valid user id (orphan-sweep).</summary>
    public abstract IAsyncEnumerable<StoredFolder> ListPictureFoldersAsync(CancellationToken ct);

    /// <summary>Every folder under temp/ (temp-cleanup).</summary>
    public abstract IAsyncEnumerable<StoredFolder> ListUploadFoldersAsync(CancellationToken ct);

    /// <summary>Deletes a folder that a listing found (an orphan or a leftover).</summary>
    public abstract Task DeleteFolderAsync(StoredFolder folder, CancellationToken ct);

    /// <summary>Throws when the store cannot be written and read now (readiness check).</summary>
    public abstract Task CheckAsync(CancellationToken ct);

    /// <summary>Checked once at start-up: a refusal that a restart would not cure (wrong keys, no such bucket) stops the start.</summary>
    public virtual Task VerifyAtStartAsync(ILogger log, CancellationToken ct) => CheckAsync(ct);

    /// <summary>images/default/default.png of the repository, whichever provider stores the pictures.</summary>
    public static string DefaultPicturePath(IConfiguration config) => RepositoryRoot.Resolve(config, Path.Combine("images", "default", "default.png"));

    // ---- the one place where locations are built

    protected static string PictureLocation(string userId, Guid pictureId) => $"{UserLocation(userId)}/{pictureId:D}";

    protected static string UserLocation(string userId) =>
        UserIds.IsValid(userId) ? $"users/{userId}" : throw new ArgumentException("invalid user id", nameof(userId));

    protected static string UploadLocation(Guid uploadId) => $"temp/{uploadId:D}";

    /// <summary>users/{u}/{name} or temp/{name} of a listed folder, after checking its parts again.</summary>
    protected static string FolderLocation(StoredFolder folder)
    {
        if (folder.Id is null && !folder.IsLeftover) throw new ArgumentException("not a folder of ours", nameof(folder));
        if (folder.UserId == DetachedParent) return $"users/{folder.Name}";
        return folder.UserId is null ? $"temp/{folder.Name}" : $"{UserLocation(folder.UserId)}/{folder.Name}";
    }

    /// <summary>File names come from <see cref="PictureFiles"/> (master.jpg, 64.webp) or the pipeline (staged.png): never a path.</summary>
    protected static string CheckedFileName(string name) =>
        name.Length is > 0 and <= 64 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '-' or '_') && !name.StartsWith('.')
            ? name
            : throw new ArgumentException("bad file name", nameof(name));

    /// <summary>The UserId of a listed users/.deleting-{userId}-{n} folder (an account deletion's leftover).</summary>
    public const string DetachedParent = "";

    internal static bool IsLeftoverName(string name) =>
        (name.StartsWith(".staging-picture-", StringComparison.Ordinal) && Guid.TryParseExact(name[17..], "D", out _))
        || ((name.StartsWith(".staging-", StringComparison.Ordinal) || name.StartsWith(".purging-", StringComparison.Ordinal))
            && Guid.TryParseExact(name[9..], "D", out _))
        || (name.StartsWith(".deleting-", StringComparison.Ordinal) && name.Length > 10 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-'));
}

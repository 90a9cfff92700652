using ImagePictures.Api.Auth;
using ImagePictures.Api.Hosting;
using ImagePictures.Imaging;

namespace ImagePictures.Api.Pictures;

public class StorageException(string message, Exception? inner = null) : Exception(message, inner);
public sealed class StorageFullException(Exception inner) : StorageException("The picture storage is full.", inner);

/// <summary>
/// Builds every storage path, from validated user ids and server-made GUIDs only, and writes files
/// so that a picture folder appears complete or not at all: files go into a hidden staging folder
/// under temp/, are fsynced, and the folder is later published (renamed) into
/// users/{userId}/{pictureId}/. Staging lies outside the user's folder, so an account deletion never
/// removes a folder that an upload is still filling; <see cref="PictureService"/> publishes and
/// detaches users under the per-user lock, which orders them.
/// </summary>
public class PictureStore
{
    public string Root { get; }
    public string UsersRoot => Path.Combine(Root, "users");
    public string TempRoot => Path.Combine(Root, "temp");
    public string DefaultPicturePath => Path.Combine(Root, "default", "default.png");

    public PictureStore(IConfiguration config)
    {
        Root = RepositoryRoot.Resolve(config, config["Storage:Root"] ?? "images");
        Directory.CreateDirectory(UsersRoot);
        Directory.CreateDirectory(TempRoot);
    }

    public string UserFolder(string userId) =>
        UserIds.IsValid(userId) ? Path.Combine(UsersRoot, userId) : throw new ArgumentException("invalid user id", nameof(userId));

    public string PictureFolder(string userId, Guid pictureId) => Path.Combine(UserFolder(userId), pictureId.ToString("D"));

    public string VariantPath(string userId, Guid pictureId, int size, bool webp, bool hasAlpha) =>
        Path.Combine(PictureFolder(userId, pictureId), VariantName(size, webp, hasAlpha));

    public static string VariantName(int size, bool webp, bool hasAlpha) => $"{size}.{(webp ? "webp" : hasAlpha ? "png" : "jpg")}";

    public string UploadFolder(Guid uploadId) => Path.Combine(TempRoot, uploadId.ToString("D"));

    private string PictureStaging(Guid pictureId) => Path.Combine(TempRoot, $".staging-picture-{pictureId:D}");

    /// <summary>Writes and fsyncs every file of a picture into its staging folder (the slow part, outside any lock).</summary>
    public async Task StagePictureAsync(Guid pictureId, IEnumerable<EncodedFile> files, CancellationToken ct)
    {
        var staging = PictureStaging(pictureId);
        try { await WriteFilesAsync(staging, files, ct); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            TryDelete(staging);
            if (e is OperationCanceledException) throw;
            throw IsDiskFull(e) ? new StorageFullException(e) : new StorageException("The picture storage could not be written; nothing was saved.", e);
        }
    }

    /// <summary>Moves a staged picture into users/{userId}/{pictureId}/ in one rename. Call under the user lock.</summary>
    public virtual void PublishPicture(string userId, Guid pictureId)
    {
        try
        {
            Directory.CreateDirectory(UserFolder(userId));
            Directory.Move(PictureStaging(pictureId), PictureFolder(userId, pictureId));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw IsDiskFull(e) ? new StorageFullException(e) : new StorageException("The picture storage could not be written; nothing was saved.", e);
        }
    }

    /// <summary>Removes a staged picture that was not published (quota, default picture already there, failure).</summary>
    public void DiscardStagedPicture(Guid pictureId) => TryDelete(PictureStaging(pictureId));

    public Task WriteUploadAsync(Guid uploadId, IEnumerable<EncodedFile> files, CancellationToken ct) =>
        WriteFolderAsync(TempRoot, uploadId, files, ct);

    /// <summary>
    /// Deletes a picture's folder. Already gone counts as success, so a purge can always finish.
    /// The folder is first renamed to a tombstone in one atomic step: either the picture's files are
    /// all still in place (the rename failed, the row stays) or none are, never half of them. A
    /// tombstone that cannot be removed now is left to orphan-sweep.
    /// </summary>
    public virtual void DeletePicture(string userId, Guid pictureId)
    {
        var folder = PictureFolder(userId, pictureId);
        var tombstone = Path.Combine(UserFolder(userId), $".purging-{pictureId:D}");
        try
        {
            if (!Directory.Exists(folder)) return;
            Directory.Move(folder, tombstone);
        }
        catch (DirectoryNotFoundException) { return; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageException("The picture storage could not delete the picture's files; it was kept and the next purge retries.", e);
        }
        TryDelete(tombstone);
    }

    public void DeleteUpload(Guid uploadId) => DeleteFolder(UploadFolder(uploadId));

    /// <summary>
    /// First step of an account deletion, under the user lock: the whole users/{userId}/ folder is
    /// renamed away in one step, so every picture is either still complete (the rename failed) or
    /// gone. Returns the detached folder (null when the user had none) for <see cref="RemoveDetached"/>
    /// after the rows are gone, or <see cref="ReattachUser"/> when they could not be deleted.
    /// </summary>
    public string? DetachUser(string userId)
    {
        var folder = UserFolder(userId);
        var detached = Path.Combine(UsersRoot, $".deleting-{userId}-{Guid.NewGuid():N}");
        try
        {
            if (!Directory.Exists(folder)) return null;
            Directory.Move(folder, detached);
            return detached;
        }
        catch (DirectoryNotFoundException) { return null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageException("The picture storage could not remove this account's files, so nothing was deleted. Repeat the account deletion shortly.", e);
        }
    }

    /// <summary>Puts a detached folder back (the rows could not be deleted); false if that failed too.</summary>
    public bool ReattachUser(string userId, string detached)
    {
        try { Directory.Move(detached, UserFolder(userId)); return true; }
        catch (Exception) { return false; }
    }

    /// <summary>Deletes a detached user folder; what cannot be removed now is left to orphan-sweep.</summary>
    public void RemoveDetached(string detached) => TryDelete(detached);

    private static async Task WriteFilesAsync(string folder, IEnumerable<EncodedFile> files, CancellationToken ct)
    {
        Directory.CreateDirectory(folder);
        foreach (var file in files)
        {
            if (file.FileName.Contains('/') || file.FileName.Contains("..")) throw new ArgumentException("bad file name");
            await using var stream = new FileStream(Path.Combine(folder, file.FileName), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None);
            await stream.WriteAsync(file.Bytes, ct);
            stream.Flush(flushToDisk: true);
        }
    }

    private static async Task WriteFolderAsync(string parent, Guid id, IEnumerable<EncodedFile> files, CancellationToken ct)
    {
        var final = Path.Combine(parent, id.ToString("D"));
        var staging = Path.Combine(parent, $".staging-{id:D}");
        try
        {
            await WriteFilesAsync(staging, files, ct);
            Directory.Move(staging, final);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            TryDelete(staging);
            TryDelete(final);
            if (e is OperationCanceledException) throw;
            throw IsDiskFull(e) ? new StorageFullException(e) : new StorageException("The picture storage could not be written; nothing was saved.", e);
        }
    }

    private static void DeleteFolder(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (DirectoryNotFoundException) { }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageException("The picture storage could not delete the staged upload's files; it was kept and the next clean-up retries.", e);
        }
    }

    private static void TryDelete(string folder)
    {
        try { if (Directory.Exists(folder)) Directory.Delete(folder, true); } catch (Exception) { /* the orphan sweep removes leftovers */ }
    }

    private static bool IsDiskFull(Exception e) =>
        e.HResult == 28 || e.HResult == unchecked((int)0x80070070) || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase)
        || e.Message.Contains("Disk quota", StringComparison.OrdinalIgnoreCase);
}

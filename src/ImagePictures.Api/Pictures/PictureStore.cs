using ImagePictures.Api.Auth;
using ImagePictures.Api.Hosting;
using ImagePictures.Imaging;

namespace ImagePictures.Api.Pictures;

public class StorageException(string message, Exception? inner = null) : Exception(message, inner);
public sealed class StorageFullException(Exception inner) : StorageException("The picture storage is full.", inner);

/// <summary>
/// Builds every storage path, from validated user ids and server-made GUIDs only, and writes files
/// so that a picture folder appears complete or not at all: files go into a hidden staging folder,
/// are fsynced, and the folder is renamed into users/{userId}/{pictureId}/.
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

    public Task WritePictureAsync(string userId, Guid pictureId, IEnumerable<EncodedFile> files, CancellationToken ct) =>
        WriteFolderAsync(UserFolder(userId), pictureId, files, ct);

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

    public void DeleteUser(string userId) => DeleteFolder(UserFolder(userId));

    private static async Task WriteFolderAsync(string parent, Guid id, IEnumerable<EncodedFile> files, CancellationToken ct)
    {
        var final = Path.Combine(parent, id.ToString("D"));
        var staging = Path.Combine(parent, $".staging-{id:D}");
        try
        {
            Directory.CreateDirectory(staging);
            foreach (var file in files)
            {
                if (file.FileName.Contains('/') || file.FileName.Contains("..")) throw new ArgumentException("bad file name");
                await using var stream = new FileStream(Path.Combine(staging, file.FileName), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None);
                await stream.WriteAsync(file.Bytes, ct);
                stream.Flush(flushToDisk: true);
            }
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
            throw new StorageException("The picture storage could not delete the picture's files; it was kept and the next purge retries.", e);
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

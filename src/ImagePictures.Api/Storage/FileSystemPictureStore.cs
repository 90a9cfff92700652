using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ImagePictures.Api.Auth;
using ImagePictures.Api.Hosting;
using ImagePictures.Imaging;

namespace ImagePictures.Api.Storage;

/// <summary>
/// Pictures under Storage:Root. A picture folder appears complete or not at all: files go into a
/// hidden temp/.staging-picture-{id} folder and are fsynced with the folder itself (outside any lock);
/// publishing renames it into users/{userId}/{pictureId}/ under the user lock and fsyncs the parent
/// folder, so that the rename is durable before the row commits. Staging lies outside the user's
/// folder, so an account deletion (which detaches users/{userId}/ in one rename) never takes a
/// folder that an upload is still filling.
/// A purge renames the folder to a .purging-{id} tombstone first, so its files are all there or all gone.
/// </summary>
public sealed partial class FileSystemPictureStore : PictureStore
{
    public string Root { get; }
    private string UsersRoot => Path.Combine(Root, "users");
    private string TempRoot => Path.Combine(Root, "temp");
    private readonly ILogger<FileSystemPictureStore> _log;

    public FileSystemPictureStore(IConfiguration config, Microsoft.Extensions.Options.IOptions<StorageOptions> options, ILogger<FileSystemPictureStore> log)
    {
        _log = log;
        Root = RepositoryRoot.Resolve(config, options.Value.Root);
        Directory.CreateDirectory(UsersRoot);
        Directory.CreateDirectory(TempRoot);
    }

    public override string Description => $"the file system under {Root}";

    private string Full(string location) => Path.Combine(Root, location);

    private string PictureStaging(Guid pictureId) => Path.Combine(TempRoot, $".staging-picture-{pictureId:D}");

    public override async Task StagePictureAsync(string userId, Guid pictureId, IReadOnlyList<EncodedFile> files, CancellationToken ct)
    {
        var staging = PictureStaging(pictureId);
        try
        {
            await WriteFilesDurablyAsync(staging, files, ct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            TryDelete(staging);
            if (e is OperationCanceledException) throw;
            throw IsDiskFull(e) ? new StorageFullException(e) : new StorageException("The picture storage could not be written; nothing was saved.", e);
        }
    }

    public override Task PublishPictureAsync(string userId, Guid pictureId, CancellationToken ct)
    {
        var userFolder = Full(UserLocation(userId));
        try
        {
            var userIsNew = !Directory.Exists(userFolder);
            Directory.CreateDirectory(userFolder);
            Directory.Move(PictureStaging(pictureId), Full(PictureLocation(userId, pictureId)));
            FsyncDirectory(userFolder); // the rename
            if (userIsNew) FsyncDirectory(UsersRoot); // a user's first picture created users/{userId}/
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw IsDiskFull(e) ? new StorageFullException(e) : new StorageException("The picture storage could not be written; nothing was saved.", e);
        }
        return Task.CompletedTask;
    }

    public override Task DiscardStagedPictureAsync(string userId, Guid pictureId)
    {
        TryDelete(PictureStaging(pictureId));
        return Task.CompletedTask;
    }

    public override Task WriteUploadAsync(Guid uploadId, IReadOnlyList<EncodedFile> files, CancellationToken ct) =>
        WriteFolderAsync(TempRoot, uploadId, files, ct);

    public override Task<StoredFile?> ReadPictureFileAsync(string userId, Guid pictureId, string fileName, CancellationToken ct) =>
        ReadAsync(Path.Combine(Full(PictureLocation(userId, pictureId)), CheckedFileName(fileName)), ct);

    public override Task<StoredFile?> ReadUploadFileAsync(Guid uploadId, string fileName, CancellationToken ct) =>
        ReadAsync(Path.Combine(Full(UploadLocation(uploadId)), CheckedFileName(fileName)), ct);

    private static async Task<StoredFile?> ReadAsync(string path, CancellationToken ct)
    {
        try
        {
            var bytes = await File.ReadAllBytesAsync(path, ct);
            return new StoredFile(bytes, File.GetLastWriteTimeUtc(path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { return null; }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageException("The picture storage could not be read; try again shortly.", e);
        }
    }

    public override Task DeletePictureAsync(string userId, Guid pictureId, CancellationToken ct)
    {
        DeletePicture(userId, pictureId);
        return Task.CompletedTask;
    }

    /// <summary>Folders are deleted a few at a time: each is a handful of file-system calls that mostly wait.</summary>
    public override Task<IReadOnlyCollection<Guid>> DeletePicturesAsync(IReadOnlyList<(Guid Id, string UserId)> pictures, CancellationToken ct)
    {
        var gone = new System.Collections.Concurrent.ConcurrentBag<Guid>();
        Parallel.ForEach(pictures, new ParallelOptions { MaxDegreeOfParallelism = 4 }, picture =>
        {
            if (ct.IsCancellationRequested) return;
            try { DeletePicture(picture.UserId, picture.Id); gone.Add(picture.Id); }
            catch (StorageException e) { _log.LogWarning(e, "Could not delete the files of picture {PictureId}", picture.Id); }
        });
        return Task.FromResult<IReadOnlyCollection<Guid>>(gone.ToArray());
    }

    /// <summary>
    /// The folder is first renamed to a tombstone in one atomic step: either the picture's files are
    /// all still in place (the rename failed, the row stays) or none are, never half of them. A
    /// tombstone that cannot be removed now is left to orphan-sweep.
    /// </summary>
    private void DeletePicture(string userId, Guid pictureId)
    {
        var folder = Full(PictureLocation(userId, pictureId));
        var tombstone = Path.Combine(Full(UserLocation(userId)), $".purging-{pictureId:D}");
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

    public override Task DeleteUploadAsync(Guid uploadId, CancellationToken ct)
    {
        DeleteFolder(Full(UploadLocation(uploadId)));
        return Task.CompletedTask;
    }

    /// <summary>The whole users/{userId}/ folder is renamed away in one step: every picture is still complete (the rename failed) or gone.</summary>
    public override Task<string?> DetachUserAsync(string userId, CancellationToken ct)
    {
        var folder = Full(UserLocation(userId));
        var detached = Path.Combine(UsersRoot, $".deleting-{userId}-{Guid.NewGuid():N}");
        try
        {
            if (!Directory.Exists(folder)) return Task.FromResult<string?>(null);
            Directory.Move(folder, detached);
            return Task.FromResult<string?>(detached);
        }
        catch (DirectoryNotFoundException) { return Task.FromResult<string?>(null); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageException("The picture storage could not remove this account's files, so nothing was deleted. Repeat the account deletion shortly.", e);
        }
    }

    public override bool ReattachUser(string userId, string detached)
    {
        try { Directory.Move(detached, Full(UserLocation(userId))); return true; }
        catch (Exception) { return false; }
    }

    /// <summary>What cannot be removed now is left to orphan-sweep.</summary>
    public override void RemoveDetached(string detached) => TryDelete(detached);

    public override async IAsyncEnumerable<StoredFolder> ListPictureFoldersAsync([EnumeratorCancellation] CancellationToken ct)
    {
        foreach (var userFolder in Directory.EnumerateDirectories(UsersRoot))
        {
            var userId = Path.GetFileName(userFolder);
            if (userId.StartsWith(".deleting-", StringComparison.Ordinal) && IsLeftoverName(userId))
            {
                yield return new StoredFolder(DetachedParent, userId, Directory.GetLastWriteTimeUtc(userFolder)); // an account deletion's leftover
                continue;
            }
            if (!UserIds.IsValid(userId)) continue;
            foreach (var folder in SafeEnumerate(userFolder))
            {
                ct.ThrowIfCancellationRequested();
                if (Listed(userId, folder) is { } found) yield return found;
            }
        }
        await Task.CompletedTask;
    }

    public override async IAsyncEnumerable<StoredFolder> ListUploadFoldersAsync([EnumeratorCancellation] CancellationToken ct)
    {
        foreach (var folder in SafeEnumerate(TempRoot))
        {
            ct.ThrowIfCancellationRequested();
            if (Listed(null, folder) is { } found) yield return found;
        }
        await Task.CompletedTask;
    }

    private static StoredFolder? Listed(string? userId, string folder)
    {
        var found = new StoredFolder(userId, Path.GetFileName(folder), Directory.GetLastWriteTimeUtc(folder));
        return found.Id is not null || found.IsLeftover ? found : null; // anything else is not ours
    }

    private static IEnumerable<string> SafeEnumerate(string folder)
    {
        try { return Directory.EnumerateDirectories(folder).ToList(); }
        catch (DirectoryNotFoundException) { return []; }
    }

    public override Task DeleteFolderAsync(StoredFolder folder, CancellationToken ct)
    {
        DeleteFolder(Full(FolderLocation(folder)));
        return Task.CompletedTask;
    }

    public override async Task CheckAsync(CancellationToken ct)
    {
        var probe = Path.Combine(TempRoot, $".health-{Guid.NewGuid():N}");
        try
        {
            await File.WriteAllBytesAsync(probe, [1], ct);
            File.Delete(probe);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageException($"The folder {TempRoot} is not writable.", e);
        }
    }

    /// <summary>Creates the folder and writes the files into it, each and their names flushed to disk.</summary>
    private static async Task WriteFilesDurablyAsync(string folder, IReadOnlyList<EncodedFile> files, CancellationToken ct)
    {
        Directory.CreateDirectory(folder);
        foreach (var file in files)
        {
            await using var stream = new FileStream(Path.Combine(folder, CheckedFileName(file.FileName)), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.None);
            await stream.WriteAsync(file.Bytes, ct);
            stream.Flush(flushToDisk: true);
        }
        FsyncDirectory(folder); // the files' names
    }

    private static async Task WriteFolderAsync(string parent, Guid id, IReadOnlyList<EncodedFile> files, CancellationToken ct)
    {
        var final = Path.Combine(parent, id.ToString("D"));
        var staging = Path.Combine(parent, $".staging-{id:D}");
        try
        {
            var parentIsNew = !Directory.Exists(parent);
            await WriteFilesDurablyAsync(staging, files, ct);
            Directory.Move(staging, final);
            FsyncDirectory(parent); // the rename
            if (parentIsNew) FsyncDirectory(Path.GetDirectoryName(parent)!); // a user's first picture created users/{userId}/
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or OperationCanceledException)
        {
            TryDelete(staging);
            TryDelete(final);
            if (e is OperationCanceledException) throw;
            throw IsDiskFull(e) ? new StorageFullException(e) : new StorageException("The picture storage could not be written; nothing was saved.", e);
        }
    }

    private static void FsyncDirectory(string folder)
    {
        var fd = open(folder, 0 /* O_RDONLY */);
        if (fd < 0) throw new IOException($"open of a folder for fsync failed (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (fsync(fd) != 0) throw new IOException($"fsync of a folder failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally { _ = close(fd); }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int close(int fd);

    private static void DeleteFolder(string folder)
    {
        try
        {
            if (Directory.Exists(folder)) Directory.Delete(folder, recursive: true);
        }
        catch (DirectoryNotFoundException) { }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StorageException("The picture storage could not delete the files; they were kept and the next clean-up retries.", e);
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

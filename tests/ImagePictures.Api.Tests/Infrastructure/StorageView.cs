using System.Diagnostics;
using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace ImagePictures.Api.Tests.Infrastructure;

/// <summary>
/// What a test host's store holds, seen without the service's own storage code: the folders on disk,
/// or the bucket's objects through a client of the test's own. Also plants and breaks things.
/// </summary>
public abstract class StorageView
{
    /// <summary>The file names of users/{userId}/{pictureId}/, empty when there is none.</summary>
    public abstract Task<string[]> PictureFilesAsync(string userId, Guid pictureId);
    public abstract Task<byte[]> ReadPictureFileAsync(string userId, Guid pictureId, string fileName);
    /// <summary>Everything directly under users/{userId}/ (picture folders, leftovers, stray files).</summary>
    public abstract Task<string[]> UserEntriesAsync(string userId);
    public abstract Task<bool> UploadExistsAsync(Guid uploadId);
    /// <summary>Writes users/{userId}/{folder}/{file} (a picture folder without a row, as a crash leaves one).</summary>
    public abstract Task PlantPictureFileAsync(string userId, string folder, string fileName, byte[] bytes);
    /// <summary>Writes temp/{folder}/{file} without a row.</summary>
    public abstract Task PlantUploadFileAsync(string folder, string fileName, byte[] bytes);
    /// <summary>Removes a picture's files behind the service's back.</summary>
    public abstract Task LosePictureAsync(string userId, Guid pictureId);
    /// <summary>Makes the picture's files impossible to delete until the result is disposed: a real storage failure.</summary>
    public abstract Task<IAsyncDisposable> BlockDeletesAsync(string userId, Guid pictureId);

    public async Task<bool> PictureExistsAsync(string userId, Guid pictureId) => (await PictureFilesAsync(userId, pictureId)).Length > 0;
}

public sealed class FileSystemView(string root) : StorageView
{
    private string Folder(string userId, Guid id) => Path.Combine(root, "users", userId, id.ToString());

    public override Task<string[]> PictureFilesAsync(string userId, Guid pictureId) =>
        Task.FromResult(Directory.Exists(Folder(userId, pictureId)) ? Directory.GetFiles(Folder(userId, pictureId)).Select(Path.GetFileName).ToArray()! : []);

    public override Task<byte[]> ReadPictureFileAsync(string userId, Guid pictureId, string fileName) =>
        File.ReadAllBytesAsync(Path.Combine(Folder(userId, pictureId), fileName));

    public override Task<string[]> UserEntriesAsync(string userId)
    {
        var dir = Path.Combine(root, "users", userId);
        return Task.FromResult(Directory.Exists(dir) ? Directory.GetFileSystemEntries(dir).Select(Path.GetFileName).ToArray()! : []);
    }

    public override Task<bool> UploadExistsAsync(Guid uploadId) => Task.FromResult(Directory.Exists(Path.Combine(root, "temp", uploadId.ToString())));

    public override Task PlantPictureFileAsync(string userId, string folder, string fileName, byte[] bytes)
    {
        var dir = Path.Combine(root, "users", userId, folder);
        Directory.CreateDirectory(dir);
        return File.WriteAllBytesAsync(Path.Combine(dir, fileName), bytes);
    }

    public override Task PlantUploadFileAsync(string folder, string fileName, byte[] bytes)
    {
        var dir = Path.Combine(root, "temp", folder);
        Directory.CreateDirectory(dir);
        return File.WriteAllBytesAsync(Path.Combine(dir, fileName), bytes);
    }

    public override Task LosePictureAsync(string userId, Guid pictureId)
    {
        Directory.Delete(Folder(userId, pictureId), recursive: true);
        return Task.CompletedTask;
    }

    /// <summary>chattr +i on the folder: not one of its files can be unlinked, nor the folder renamed.</summary>
    public override Task<IAsyncDisposable> BlockDeletesAsync(string userId, Guid pictureId)
    {
        var folder = Folder(userId, pictureId);
        Chattr("+i", folder);
        return Task.FromResult<IAsyncDisposable>(new Undo(() => Chattr("-i", folder)));
    }

    private static void Chattr(string flag, string path)
    {
        using var process = Process.Start(new ProcessStartInfo("chattr", [flag, path]) { RedirectStandardError = true })!;
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"chattr {flag} failed: {process.StandardError.ReadToEnd()}");
    }

    private sealed class Undo(Action undo) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() { undo(); return ValueTask.CompletedTask; }
    }
}

public sealed class S3View(IAmazonS3 s3, string bucket, string prefix) : StorageView
{
    private string PictureFolder(string userId, Guid id) => $"{prefix}users/{userId}/{id}/";

    private async Task<List<string>> KeysAsync(string under)
    {
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = bucket, Prefix = under };
        while (true)
        {
            var page = await s3.ListObjectsV2Async(request);
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            if (page.IsTruncated != true) return keys;
            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    public override async Task<string[]> PictureFilesAsync(string userId, Guid pictureId)
    {
        var under = PictureFolder(userId, pictureId);
        return (await KeysAsync(under)).Select(k => k[under.Length..]).ToArray();
    }

    public override async Task<byte[]> ReadPictureFileAsync(string userId, Guid pictureId, string fileName)
    {
        using var response = await s3.GetObjectAsync(bucket, PictureFolder(userId, pictureId) + fileName);
        using var copy = new MemoryStream();
        await response.ResponseStream.CopyToAsync(copy);
        return copy.ToArray();
    }

    public override async Task<string[]> UserEntriesAsync(string userId)
    {
        var under = $"{prefix}users/{userId}/";
        return (await KeysAsync(under)).Select(k => k[under.Length..].Split('/')[0]).Distinct().ToArray();
    }

    public override async Task<bool> UploadExistsAsync(Guid uploadId) => (await KeysAsync($"{prefix}temp/{uploadId}/")).Count > 0;

    public override Task PlantPictureFileAsync(string userId, string folder, string fileName, byte[] bytes) =>
        PutAsync($"{prefix}users/{userId}/{folder}/{fileName}", bytes);

    public override Task PlantUploadFileAsync(string folder, string fileName, byte[] bytes) => PutAsync($"{prefix}temp/{folder}/{fileName}", bytes);

    private Task PutAsync(string key, byte[] bytes) =>
        s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = key, InputStream = new MemoryStream(bytes), UseChunkEncoding = false });

    public override async Task LosePictureAsync(string userId, Guid pictureId)
    {
        foreach (var key in await KeysAsync(PictureFolder(userId, pictureId))) await s3.DeleteObjectAsync(bucket, key);
    }

    /// <summary>A bucket policy that denies deleting the picture's objects.</summary>
    public override async Task<IAsyncDisposable> BlockDeletesAsync(string userId, Guid pictureId)
    {
        var policy = $$"""
            {"Version":"2012-10-17","Statement":[{"Effect":"Deny","Principal":"*","Action":["s3:DeleteObject"],
              "Resource":["arn:aws:s3:::{{bucket}}/{{PictureFolder(userId, pictureId)}}*"]}]}
            """;
        await s3.PutBucketPolicyAsync(new PutBucketPolicyRequest { BucketName = bucket, Policy = policy });
        return new Undo(() => s3.DeleteBucketPolicyAsync(new DeleteBucketPolicyRequest { BucketName = bucket }));
    }

    private sealed class Undo(Func<Task> undo) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync() => await undo();
    }
}

using System.Net;
using System.Runtime.CompilerServices;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using ImagePictures.Api.Auth;
using ImagePictures.Imaging;
using Microsoft.Extensions.Options;

namespace ImagePictures.Api.Storage;

/// <summary>
/// Pictures in an S3-compatible bucket under {Prefix}users/{userId}/{pictureId}/{file} and
/// {Prefix}temp/{uploadId}/{file}. An object store has no atomic folder rename, so a picture is
/// written as plain PutObjects of every file (the caller commits the row only after all succeeded,
/// and a failed write deletes what was put), and purged with one DeleteObjects of its keys.
/// Objects left by a crash between the puts and the row are found by orphan-sweep.
/// One client for the process, made at start and disposed at stop.
/// </summary>
public sealed class S3PictureStore : PictureStore, IDisposable
{
    private const int MaxKeysPerDelete = 1000; // the S3 limit of one DeleteObjects
    private readonly IAmazonS3 _s3;
    private readonly string _bucket;
    private readonly string _prefix;
    private readonly PictureFiles _files;
    private readonly ILogger<S3PictureStore> _log;

    public S3PictureStore(IOptions<StorageOptions> options, PictureFiles files, ILogger<S3PictureStore> log)
    {
        var s3 = options.Value.S3;
        _bucket = s3.Bucket;
        _prefix = s3.NormalizedPrefix;
        _files = files;
        _log = log;
        _s3 = CreateClient(s3);
    }

    /// <summary>The client as the settings describe it; the benchmark's bare-SDK baseline uses the same.</summary>
    public static AmazonS3Client CreateClient(S3StorageOptions s3)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = s3.ForcePathStyle,
            // The SDK's default checksums (CRC32 trailers) are refused by Ceph and older S3-compatible servers.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
            // A store that hangs must turn into a 503 within 10 s, not after the SDK's 100 s default. One
            // attempt: the caller's 503 + Retry-After is the retry (a 4 s timeout with a retry timed out
            // puts that a busy machine was merely slow to answer).
            Timeout = TimeSpan.FromSeconds(9),
            MaxErrorRetry = 0,
        };
        if (s3.ServiceUrl is { Length: > 0 } url)
        {
            config.ServiceURL = url;
            config.AuthenticationRegion = s3.EffectiveRegion;
        }
        else
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(s3.EffectiveRegion);
        }
        return s3.AccessKey is { Length: > 0 } && s3.SecretKey is { Length: > 0 }
            ? new AmazonS3Client(new BasicAWSCredentials(s3.AccessKey, s3.SecretKey), config)
            : new AmazonS3Client(config); // the SDK's default credential chain
    }

    public override string Description => $"the S3 bucket {_bucket}";

    private string Key(string location, string fileName) => $"{_prefix}{location}/{CheckedFileName(fileName)}";
    private string FolderPrefix(string location) => $"{_prefix}{location}/";

    /// <summary>The objects go straight to their final keys; the row is what makes them a picture.</summary>
    public override Task StagePictureAsync(string userId, Guid pictureId, IReadOnlyList<EncodedFile> files, CancellationToken ct) =>
        PutAllAsync(PictureLocation(userId, pictureId), files, ct);

    /// <summary>
    /// Under the user lock: checks that every object is still there. An account deletion that ran
    /// while this upload was putting its objects deleted them (it lists the user's keys under the same
    /// lock), and the upload must then fail rather than commit a row without its files.
    /// </summary>
    public override async Task PublishPictureAsync(string userId, Guid pictureId, CancellationToken ct)
    {
        var expected = _files.Count;
        int count;
        try
        {
            count = (await _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = FolderPrefix(PictureLocation(userId, pictureId)) }, ct)).KeyCount ?? 0;
        }
        catch (Exception e) when (IsStoreFailure(e, ct)) { throw new StorageException("The picture storage could not be read; nothing was saved. Retry shortly.", e); }
        if (count < expected)
            throw new StorageException("The picture's files were removed while it was being saved (was the account deleted?); nothing was saved.");
    }

    public override Task DiscardStagedPictureAsync(string userId, Guid pictureId) => DeleteKeysQuietlyAsync(PictureKeys(userId, pictureId).ToList());

    public override Task WriteUploadAsync(Guid uploadId, IReadOnlyList<EncodedFile> files, CancellationToken ct) =>
        PutAllAsync(UploadLocation(uploadId), files, ct);

    private async Task PutAllAsync(string location, IReadOnlyList<EncodedFile> files, CancellationToken ct)
    {
        var keys = files.Select(f => Key(location, f.FileName)).ToArray();
        // Every put is awaited (also when one fails) before the clean-up, so none lands after it.
        var puts = files.Select((f, i) => PutAsync(keys[i], f, ct)).ToArray();
        try { await Task.WhenAll(puts); }
        catch (Exception e) when (IsStoreFailure(e, ct) || e is OperationCanceledException)
        {
            await DeleteKeysQuietlyAsync(keys);
            if (e is OperationCanceledException && ct.IsCancellationRequested) throw;
            var first = puts.Select(p => p.Exception?.InnerException).FirstOrDefault(x => x is not null) ?? e;
            throw first is AmazonS3Exception { ErrorCode: "QuotaExceeded" }
                ? new StorageFullException(first)
                : new StorageException("The picture storage could not be written; nothing was saved. Retry shortly.", first);
        }
    }

    private Task PutAsync(string key, EncodedFile file, CancellationToken ct) =>
        _s3.PutObjectAsync(new PutObjectRequest
        {
            BucketName = _bucket,
            Key = key,
            InputStream = new MemoryStream(file.Bytes, writable: false),
            ContentType = file.ContentType,
            // A plain signed body: aws-chunked uploads are not understood by every S3-compatible server.
            UseChunkEncoding = false,
        }, ct);

    public override Task<StoredFile?> ReadPictureFileAsync(string userId, Guid pictureId, string fileName, CancellationToken ct) =>
        ReadAsync(Key(PictureLocation(userId, pictureId), fileName), ct);

    public override Task<StoredFile?> ReadUploadFileAsync(Guid uploadId, string fileName, CancellationToken ct) =>
        ReadAsync(Key(UploadLocation(uploadId), fileName), ct);

    private async Task<StoredFile?> ReadAsync(string key, CancellationToken ct)
    {
        try
        {
            using var response = await _s3.GetObjectAsync(new GetObjectRequest { BucketName = _bucket, Key = key }, ct);
            var bytes = new byte[response.ContentLength];
            await response.ResponseStream.ReadExactlyAsync(bytes, ct);
            return new StoredFile(bytes, response.LastModified is { } at ? new DateTimeOffset(DateTime.SpecifyKind(at, DateTimeKind.Utc)) : DateTimeOffset.UtcNow);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode != "NoSuchBucket") { return null; }
        catch (Exception e) when (IsStoreFailure(e, ct))
        {
            throw new StorageException("The picture storage could not be read; try again shortly.", e);
        }
    }

    /// <summary>
    /// The picture's keys are known without listing: every name <see cref="PictureFiles"/> gives a picture
    /// with or without alpha. Deleting a key that was never written succeeds. Files of sizes removed
    /// from Pictures:Sizes since the upload are left to orphan-sweep.
    /// </summary>
    private IEnumerable<string> PictureKeys(string userId, Guid pictureId)
    {
        var location = PictureLocation(userId, pictureId);
        return _files.AnyOf().Select(name => Key(location, name));
    }

    public override async Task DeletePictureAsync(string userId, Guid pictureId, CancellationToken ct)
    {
        var failed = await DeleteKeysAsync(PictureKeys(userId, pictureId).ToList(), ct);
        if (failed.Count > 0)
            throw new StorageException("The picture storage could not delete the picture's files; it was kept and the next purge retries.",
                new IOException(failed.First().Value));
    }

    public override async Task<IReadOnlyCollection<Guid>> DeletePicturesAsync(IReadOnlyList<(Guid Id, string UserId)> pictures, CancellationToken ct)
    {
        var owner = new Dictionary<string, Guid>(StringComparer.Ordinal);
        foreach (var (id, userId) in pictures)
            foreach (var key in PictureKeys(userId, id)) owner[key] = id;
        var keys = owner.Keys.ToList();
        var failed = new HashSet<Guid>();
        try
        {
            foreach (var (key, error) in await DeleteKeysAsync(keys, ct))
            {
                if (failed.Add(owner[key])) _log.LogWarning("Could not delete the files of picture {PictureId}: {Error}", owner[key], error);
            }
        }
        catch (Exception e) when (e is StorageException or OperationCanceledException)
        {
            // The batches run in parallel; which ones finished is not known, so none counts as gone
            // (deleting again is harmless: the next run retries them).
            if (e is StorageException) _log.LogWarning(e, "Could not delete the files of {Count} pictures", pictures.Count);
            return [];
        }
        return pictures.Select(p => p.Id).Where(id => !failed.Contains(id)).Distinct().ToArray();
    }

    public override async Task DeleteUploadAsync(Guid uploadId, CancellationToken ct) =>
        await DeleteUnderAsync(FolderPrefix(UploadLocation(uploadId)), "The picture storage could not delete the staged files; they were kept and the next clean-up retries.", ct);

    /// <summary>An object store cannot detach a folder: the user's objects are deleted here, under the lock, before the rows.</summary>
    public override async Task<string?> DetachUserAsync(string userId, CancellationToken ct)
    {
        await DeleteUnderAsync(FolderPrefix(UserLocation(userId)), "The picture storage could not remove this account's files; the pictures were kept. Repeat the account deletion shortly.", ct);
        return null;
    }

    public override async Task DeleteFolderAsync(StoredFolder folder, CancellationToken ct) =>
        await DeleteUnderAsync(FolderPrefix(FolderLocation(folder)), "The picture storage could not delete the folder; the next run retries.", ct);

    private async Task DeleteUnderAsync(string prefix, string failure, CancellationToken ct)
    {
        var keys = new List<string>();
        try
        {
            await foreach (var o in ListAsync(prefix, ct)) keys.Add(o.Key);
        }
        catch (Exception e) when (IsStoreFailure(e, ct)) { throw new StorageException(failure, e); }
        var failed = await DeleteKeysAsync(keys, ct);
        if (failed.Count > 0) throw new StorageException(failure, new IOException(failed.First().Value));
    }

    /// <summary>Deletes keys in DeleteObjects batches of up to 1000; answers the keys that could not be deleted, with the error.</summary>
    private async Task<IReadOnlyDictionary<string, string>> DeleteKeysAsync(IReadOnlyList<string> keys, CancellationToken ct)
    {
        var failed = new System.Collections.Concurrent.ConcurrentDictionary<string, string>();
        try
        {
            await Parallel.ForEachAsync(keys.Chunk(MaxKeysPerDelete), new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = ct }, async (chunk, token) =>
            {
                try
                {
                    await _s3.DeleteObjectsAsync(new DeleteObjectsRequest
                    {
                        BucketName = _bucket,
                        Quiet = true,
                        Objects = chunk.Select(k => new KeyVersion { Key = k }).ToList(),
                    }, token);
                }
                catch (DeleteObjectsException e)
                {
                    foreach (var error in e.Response.DeleteErrors ?? [])
                        if (error.Code != "NoSuchKey") failed[error.Key] = $"{error.Code}: {error.Message}";
                }
            });
        }
        catch (Exception e) when (IsStoreFailure(e, ct))
        {
            throw new StorageException("The picture storage could not delete the files; they were kept and the next purge retries.", e);
        }
        return failed;
    }

    private async Task DeleteKeysQuietlyAsync(IReadOnlyList<string> keys)
    {
        try
        {
            if ((await DeleteKeysAsync(keys, CancellationToken.None)).Count == 0) return;
        }
        catch (StorageException) { }
        _log.LogWarning("Left the objects of a failed write ({Key}…); orphan-sweep or temp-cleanup removes them", keys.FirstOrDefault());
    }

    public override IAsyncEnumerable<StoredFolder> ListPictureFoldersAsync(CancellationToken ct) => ListFoldersAsync("users/", 3, ct);

    public override IAsyncEnumerable<StoredFolder> ListUploadFoldersAsync(CancellationToken ct) => ListFoldersAsync("temp/", 2, ct);

    /// <summary>
    /// Groups the listed keys by folder (keys come sorted, so a folder's keys come together); a folder
    /// is as old as its newest object. Keys that are not {users/{u}|temp}/{guid}/{file} are not ours.
    /// </summary>
    private async IAsyncEnumerable<StoredFolder> ListFoldersAsync(string under, int depth, [EnumeratorCancellation] CancellationToken ct)
    {
        StoredFolder? current = null;
        await foreach (var o in ListWrappedAsync(_prefix + under, ct))
        {
            var parts = o.Key[_prefix.Length..].Split('/');
            if (parts.Length != depth + 1) continue;
            var userId = depth == 3 ? parts[1] : null;
            if (userId is not null && !UserIds.IsValid(userId)) continue;
            var folder = new StoredFolder(userId, parts[depth - 1], o.LastModified is { } at ? DateTime.SpecifyKind(at, DateTimeKind.Utc) : DateTime.UtcNow);
            if (folder.Id is null) continue;
            if (current is not null && current.UserId == folder.UserId && current.Name == folder.Name)
            {
                if (folder.LastWriteUtc > current.LastWriteUtc) current = folder;
                continue;
            }
            if (current is not null) yield return current;
            current = folder;
        }
        if (current is not null) yield return current;
    }

    private async IAsyncEnumerable<S3Object> ListWrappedAsync(string prefix, [EnumeratorCancellation] CancellationToken ct)
    {
        var listing = ListAsync(prefix, ct).GetAsyncEnumerator(ct);
        try
        {
            while (true)
            {
                try { if (!await listing.MoveNextAsync()) yield break; }
                catch (Exception e) when (IsStoreFailure(e, ct)) { throw new StorageException("The picture storage could not be listed; the next run retries.", e); }
                yield return listing.Current;
            }
        }
        finally { await listing.DisposeAsync(); }
    }

    private async IAsyncEnumerable<S3Object> ListAsync(string prefix, [EnumeratorCancellation] CancellationToken ct)
    {
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = prefix };
        while (true)
        {
            var page = await _s3.ListObjectsV2Async(request, ct);
            foreach (var o in page.S3Objects ?? []) yield return o;
            if (page.IsTruncated != true || string.IsNullOrEmpty(page.NextContinuationToken)) yield break;
            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    public override async Task CheckAsync(CancellationToken ct)
    {
        try { await _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = _prefix, MaxKeys = 1 }, ct); }
        catch (Exception e) when (IsStoreFailure(e, ct)) { throw new StorageException($"The S3 bucket {_bucket} does not answer or refuses: {e.Message}", e); }
    }

    /// <summary>
    /// Wrong keys and a missing bucket are settings to fix: they stop the start, naming the setting.
    /// A store that cannot be reached is only logged: it may come back, and /health/ready says so meanwhile.
    /// </summary>
    public override async Task VerifyAtStartAsync(ILogger log, CancellationToken ct)
    {
        try { await _s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = _bucket, Prefix = _prefix, MaxKeys = 1 }, ct); }
        catch (AmazonS3Exception e) when (e.ErrorCode is "NoSuchBucket")
        {
            throw new InvalidOperationException($"Storage:S3:Bucket: the bucket '{_bucket}' does not exist on the S3 store ({e.ErrorCode}). Create it or fix the setting.", e);
        }
        catch (AmazonS3Exception e) when (e.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.Unauthorized
                                          || e.ErrorCode is "InvalidAccessKeyId" or "SignatureDoesNotMatch" or "AccessDenied")
        {
            throw new InvalidOperationException(
                $"Storage:S3:AccessKey / Storage:S3:SecretKey: the S3 store refused them for bucket '{_bucket}' ({e.ErrorCode}: {e.Message}). Fix the keys or the bucket's permissions.", e);
        }
        catch (Exception e) when (IsStoreFailure(e, ct))
        {
            log.LogWarning(e, "The S3 store at {ServiceUrl} cannot be reached now; pictures answer 503 until it can", _s3.Config.ServiceURL ?? "AWS");
        }
    }

    /// <summary>What the store or the way to it did wrong (not a bug of ours, not the caller cancelling).</summary>
    private static bool IsStoreFailure(Exception e, CancellationToken ct) =>
        e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException or TimeoutException
            or System.Net.Sockets.SocketException
        || (e is OperationCanceledException && !ct.IsCancellationRequested);

    public void Dispose() => _s3.Dispose();
}

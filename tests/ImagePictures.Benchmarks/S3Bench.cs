using System.Diagnostics;
using Amazon.S3;
using Amazon.S3.Model;
using ImagePictures.Api.Storage;
using ImagePictures.Imaging;

namespace ImagePictures.Benchmarks;

/// <summary>
/// The S3 rows: the service on a private Ceph gateway, against the bare SDK doing the same puts and
/// deletes in the same run, with the client configured exactly as the service configures its own.
/// </summary>
public static class S3Bench
{
    public const string Prefix = "bench/";

    public static async Task CreateBucketAsync(string url, string bucket)
    {
        using var s3 = Client(url);
        await s3.PutBucketAsync(new PutBucketRequest { BucketName = bucket });
    }

    private static AmazonS3Client Client(string url) => S3PictureStore.CreateClient(new S3StorageOptions
    {
        ServiceUrl = url, AccessKey = CephGateway.AccessKey, SecretKey = CephGateway.SecretKey, ForcePathStyle = true,
    });

    /// <summary>The ingest baseline on S3: normalise in-process, then put the picture's files with plain PutObjects, all at once, as the service does.</summary>
    public static async Task<Ingest.LoopResult> IngestBaselineAsync(string jpegPath, double seconds, int threads, double warmupSeconds, string url, string bucket)
    {
        var jpeg = await File.ReadAllBytesAsync(jpegPath);
        using var pipeline = new ImagePipeline(new ImagingOptions());
        using var s3 = Client(url);
        async Task Once()
        {
            var picture = await pipeline.NormalizeAsync(jpeg);
            var folder = $"{Prefix}users/bench-bare/{Guid.NewGuid():D}/";
            await Task.WhenAll(new[] { picture.Master }.Concat(picture.Files).Select(f => s3.PutObjectAsync(new PutObjectRequest
            {
                BucketName = bucket, Key = folder + f.FileName, InputStream = new MemoryStream(f.Bytes), ContentType = f.ContentType, UseChunkEncoding = false,
            })));
        }
        await Ingest.TimedLoopAsync(threads, warmupSeconds, Once);
        var (count, elapsed, latencies) = await Ingest.TimedLoopAsync(threads, seconds, Once);
        return Ingest.Report(count, elapsed, latencies, errors: 0);
    }

    /// <summary>The service's purge of n pictures whose objects (two per picture, as on the file system) are in the bucket.</summary>
    public static Task<Purge.PurgeResult> PurgeAsync(string svc, string conn, string url, string bucket, int n)
    {
        var s3 = Client(url);
        return Purge.RunAsync(svc, conn, n,
            (ids, user) => SeedAsync(s3, bucket, ids, user),
            async (ids, user) =>
            {
                var left = 0;
                foreach (var u in ids.Select((_, i) => user(i)).Distinct())
                    left += (await s3.ListObjectsV2Async(new ListObjectsV2Request { BucketName = bucket, Prefix = $"{Prefix}users/{u}/" })).KeyCount ?? 0;
                return left;
            });
    }

    /// <summary>
    /// The bare SDK purging the same layout: the same keys (every name a picture may have, as the store
    /// deletes them without listing) in the same DeleteObjects batches of 1000, 4 at a time; no database.
    /// </summary>
    public static async Task<Purge.RateResult> PurgeBaselineAsync(string url, string bucket, int n, string sizes)
    {
        using var s3 = Client(url);
        var ids = Enumerable.Range(0, n).Select(_ => Guid.NewGuid()).ToArray();
        var run = $"bench-bare-{n}-{Environment.TickCount64 % 100000}";
        string User(int i) => $"{run}-{i / Purge.PicturesPerUser}";
        await SeedAsync(s3, bucket, ids, User);
        var names = new[] { "master.jpg", "master.png" }.Concat(sizes.Split(',').SelectMany(s => new[] { $"{s}.webp", $"{s}.jpg", $"{s}.png" })).ToArray();
        var keys = ids.SelectMany((id, i) => names.Select(name => $"{Prefix}users/{User(i)}/{id:D}/{name}")).ToList();
        var sw = Stopwatch.StartNew();
        await Parallel.ForEachAsync(keys.Chunk(1000), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (chunk, ct) =>
            await s3.DeleteObjectsAsync(new DeleteObjectsRequest { BucketName = bucket, Quiet = true, Objects = chunk.Select(k => new KeyVersion { Key = k }).ToList() }, ct));
        var seconds = sw.Elapsed.TotalSeconds;
        return new Purge.RateResult(n, seconds, n / seconds);
    }

    private static async Task SeedAsync(IAmazonS3 s3, string bucket, Guid[] ids, Func<int, string> user) =>
        await Parallel.ForEachAsync(Enumerable.Range(0, ids.Length), new ParallelOptions { MaxDegreeOfParallelism = 16 }, async (i, ct) =>
        {
            var folder = $"{Prefix}users/{user(i)}/{ids[i]:D}/";
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = folder + "64.jpg", InputStream = new MemoryStream([0xFF, 0xD8, 0xFF, 0xD9]), UseChunkEncoding = false }, ct);
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = bucket, Key = folder + "64.webp", InputStream = new MemoryStream("RIFF\0\0\0\0WEBP"u8.ToArray()), UseChunkEncoding = false }, ct);
        });
}

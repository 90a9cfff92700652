using Dapper;
using Npgsql;

namespace ImagePictures.Faults.Tests.Infrastructure;

/// <summary>Compares the pictures table with the folders under users/ — the "nothing half-written" invariant.</summary>
public sealed record StorageAudit(
    IReadOnlyList<PictureRecord> Rows,
    IReadOnlyList<string> RowsWithMissingFiles,
    IReadOnlyList<(string UserId, Guid PictureId)> OrphanFolders,
    IReadOnlyList<string> StagingFolders,
    IReadOnlyList<string> StrayFiles)
{
    public static readonly int[] Sizes = [32, 64, 128, 256, 512];

    public static async Task<StorageAudit> RunAsync(string connectionString, string storageRoot)
    {
        List<PictureRecord> rows;
        await using (var conn = new NpgsqlConnection(connectionString))
        {
            rows = (await conn.QueryAsync<PictureRecord>(
                "SELECT id AS Id, user_id AS UserId, has_alpha AS HasAlpha, deleted_at IS NOT NULL AS Trashed FROM pictures")).ToList();
        }
        var users = Path.Combine(storageRoot, "users");
        var missing = new List<string>();
        foreach (var row in rows)
        {
            var folder = Path.Combine(users, row.UserId, row.Id.ToString("D"));
            foreach (var name in ExpectedFiles(row.HasAlpha))
                if (!File.Exists(Path.Combine(folder, name))) missing.Add($"{row.UserId}/{row.Id}/{name}");
        }

        var known = rows.Select(r => (r.UserId, r.Id)).ToHashSet();
        var orphans = new List<(string, Guid)>();
        var staging = new List<string>();
        var stray = new List<string>();
        if (Directory.Exists(users))
        {
            foreach (var userDir in Directory.EnumerateDirectories(users))
            {
                var userId = Path.GetFileName(userDir);
                foreach (var entry in Directory.EnumerateFileSystemEntries(userDir))
                {
                    var name = Path.GetFileName(entry);
                    if (name.StartsWith(".staging-") || name.StartsWith(".purging-")) staging.Add($"{userId}/{name}");
                    else if (Directory.Exists(entry) && Guid.TryParse(name, out var id)) { if (!known.Contains((userId, id))) orphans.Add((userId, id)); }
                    else stray.Add($"{userId}/{name}");
                }
            }
        }
        // Nothing but finished files inside picture folders and temp/: no temporary names.
        foreach (var file in Directory.EnumerateFiles(storageRoot, "*", SearchOption.AllDirectories))
        {
            var rel = Path.GetRelativePath(storageRoot, file);
            if (rel.StartsWith("temp/")) { stray.Add(rel); continue; }
            if (rel == "default/default.png" || rel.StartsWith("users/")) continue;
            if (!rel.StartsWith("lost+found")) stray.Add(rel);
        }
        var temp = Path.Combine(storageRoot, "temp");
        if (Directory.Exists(temp))
            foreach (var dir in Directory.EnumerateDirectories(temp)) stray.Add(Path.GetRelativePath(storageRoot, dir));
        return new StorageAudit(rows, missing, orphans, staging, stray);
    }

    /// <summary>The same comparison against a bucket: {prefix}users/{userId}/{pictureId}/{file} objects, and temp/ ones (stray).</summary>
    public static async Task<StorageAudit> RunS3Async(string connectionString, Amazon.S3.IAmazonS3 s3, string bucket, string prefix)
    {
        List<PictureRecord> rows;
        await using (var conn = new NpgsqlConnection(connectionString))
        {
            rows = (await conn.QueryAsync<PictureRecord>(
                "SELECT id AS Id, user_id AS UserId, has_alpha AS HasAlpha, deleted_at IS NOT NULL AS Trashed FROM pictures")).ToList();
        }
        var keys = new HashSet<string>();
        var request = new Amazon.S3.Model.ListObjectsV2Request { BucketName = bucket, Prefix = prefix };
        while (true)
        {
            var page = await s3.ListObjectsV2Async(request);
            foreach (var o in page.S3Objects ?? []) keys.Add(o.Key[prefix.Length..]);
            if (page.IsTruncated != true) break;
            request.ContinuationToken = page.NextContinuationToken;
        }
        var missing = rows.SelectMany(r => ExpectedFiles(r.HasAlpha).Select(name => $"users/{r.UserId}/{r.Id:D}/{name}"))
            .Where(k => !keys.Contains(k)).ToList();
        var known = rows.Select(r => (r.UserId, r.Id)).ToHashSet();
        var orphans = new HashSet<(string, Guid)>();
        var stray = new List<string>();
        foreach (var key in keys)
        {
            var parts = key.Split('/');
            if (parts is ["users", var user, var folder, _] && Guid.TryParse(folder, out var id)) { if (!known.Contains((user, id))) orphans.Add((user, id)); }
            else stray.Add(key);
        }
        return new StorageAudit(rows, missing, orphans.ToList(), [], stray);
    }

    public static IEnumerable<string> ExpectedFiles(bool hasAlpha)
    {
        yield return hasAlpha ? "master.png" : "master.jpg";
        foreach (var size in Sizes)
        {
            yield return $"{size}.webp";
            yield return $"{size}.{(hasAlpha ? "png" : "jpg")}";
        }
    }

    public override string ToString() =>
        $"{Rows.Count} rows; rows with missing files: [{string.Join(", ", RowsWithMissingFiles.Take(10))}]; " +
        $"orphan folders: [{string.Join(", ", OrphanFolders.Take(10))}]; staging: [{string.Join(", ", StagingFolders.Take(10))}]; " +
        $"stray: [{string.Join(", ", StrayFiles.Take(10))}]";
}

public sealed class PictureRecord
{
    public Guid Id { get; set; }
    public string UserId { get; set; } = "";
    public bool HasAlpha { get; set; }
    public bool Trashed { get; set; }
}

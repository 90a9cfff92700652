namespace ImagePictures.Api.Pictures;

/// <summary>A row of the pictures table, with whether it is the user's active picture.</summary>
public sealed record PictureRow
{
    public Guid Id { get; init; }
    public string UserId { get; init; } = "";
    public bool IsDefault { get; init; }
    public bool IsActive { get; init; }
    public string? Title { get; init; }
    public int Width { get; init; }
    public int Height { get; init; }
    public long Bytes { get; init; }
    public string ContentHash { get; init; } = "";
    public bool HasAlpha { get; init; }
    public DateTime CreatedAt { get; init; }
    public DateTime? DeletedAt { get; init; }
    public DateTime? PurgeAfter { get; init; }
}

/// <summary>The contract's picture JSON (ImagePictures.Contracts) made from a row: the mapping is the service's, not the contract's.</summary>
public static class PictureJsonMapping
{
    extension(PictureJson)
    {
        public static PictureJson From(PictureRow r, IReadOnlyList<int> sizes) => new(
            r.Id, r.UserId, r.IsActive, r.IsDefault, r.Width, r.Height, r.Bytes, r.ContentHash, r.Title,
            DateTime.SpecifyKind(r.CreatedAt, DateTimeKind.Utc),
            r.DeletedAt is { } d ? DateTime.SpecifyKind(d, DateTimeKind.Utc) : null,
            r.PurgeAfter is { } p ? DateTime.SpecifyKind(p, DateTimeKind.Utc) : null,
            sizes.ToDictionary(s => s.ToString(), s => $"/pictures/{r.Id}/{s}"));
    }
}

/// <summary>The user already has as many pictures (live and trashed) as allowed.</summary>
public sealed class QuotaExceededException(int max)
    : Exception($"You already have {max} pictures, counting the trash. Purge some from the trash or delete pictures before uploading more.");

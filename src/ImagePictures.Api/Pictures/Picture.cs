using System.ComponentModel.DataAnnotations;
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

public sealed record PictureOptions : System.ComponentModel.DataAnnotations.IValidatableObject
{
    [Range(1, int.MaxValue, ErrorMessage = "expected the largest upload in bytes, at least 1 (default 10485760).")]
    public long MaxUploadBytes { get; init; } = 10 * 1024 * 1024;
    [Range(1, int.MaxValue, ErrorMessage = "expected the pictures one user may keep (trash included), at least 1.")]
    public int MaxPicturesPerUser { get; init; } = 100;
    [Range(1, long.MaxValue, ErrorMessage = "expected the largest image in pixels (width × height), at least 1.")]
    public long MaxPixels { get; init; } = 40_000_000;
    // No initial values here: configuration binding appends to an array instead of replacing it.
    public int[] Sizes { get; set; } = [];
    [Range(0, 1024, ErrorMessage = "expected the image decodes run in parallel, 0 (one per core) to 1024.")]
    public int MaxConcurrentDecodes { get; init; }
    [Range(0, 100_000, ErrorMessage = "expected the image decodes that may wait, 0 to 100000.")]
    public int MaxQueuedDecodes { get; init; } = 32;

    public const int LargestSize = 2048;

    public IEnumerable<ValidationResult> Validate(ValidationContext context)
    {
        // The binder silently drops array items it cannot convert: check the raw values.
        foreach (var item in context.GetRequiredService<IConfiguration>().GetSection("Pictures:Sizes").GetChildren())
            if (!int.TryParse(item.Value, out _))
                yield return new ValidationResult("expected a whole number of pixels.", [$"{nameof(Sizes)}:{item.Key}"]);
        if (Sizes.Length == 0 || Sizes.Length > 16 || Sizes.Any(s => s is < 1 or > LargestSize))
            yield return new ValidationResult(
                $"expected a list of 1 to 16 square sizes in pixels, each from 1 to {LargestSize}, e.g. [32, 64, 128, 256, 512].", [nameof(Sizes)]);
    }
}

/// <summary>The user already has as many pictures (live and trashed) as allowed.</summary>
public sealed class QuotaExceededException(int max)
    : Exception($"You already have {max} pictures, counting the trash. Purge some from the trash or delete pictures before uploading more.");

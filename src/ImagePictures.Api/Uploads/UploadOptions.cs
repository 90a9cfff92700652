using System.ComponentModel.DataAnnotations;

namespace ImagePictures.Api.Uploads;

/// <summary>Section Uploads: staged two-step uploads.</summary>
public sealed class UploadOptions
{
    public const string Section = "Uploads";

    /// <summary>Hours a staged upload is kept; fractions of an hour are allowed.</summary>
    [Range(0.001, 8760, ErrorMessage = "expected the hours a staged upload is kept, more than 0 and at most 8760.")]
    public double TempTtlHours { get; set; } = 2;

    /// <summary>Open (uncommitted, unexpired) staged uploads one user may hold.</summary>
    [Range(1, 1000, ErrorMessage = "expected the open staged uploads one user may hold, from 1 to 1000.")]
    public int MaxStagedPerUser { get; set; } = 5;
}

/// <summary>Section RateLimits: the per-user token bucket on uploads (direct and staged).</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    [Range(1, int.MaxValue, ErrorMessage = "expected the uploads one user may make per minute, at least 1.")]
    public int UploadsPerMinute { get; set; } = 30;
}

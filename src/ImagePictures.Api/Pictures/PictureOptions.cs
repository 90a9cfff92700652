using System.ComponentModel.DataAnnotations;
using ImagePictures.Api.Hosting;
using ImagePictures.Imaging;
using Microsoft.Extensions.Options;

namespace ImagePictures.Api.Pictures;

public static class PicturesSetup
{
    /// <summary>The Pictures settings and the image pipeline they size.</summary>
    public static void AddPictures(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<PictureOptions>(PictureOptions.Section)
            .PostConfigure(o => o.Sizes = (o.Sizes.Length > 0 ? o.Sizes : PictureOptions.DefaultSizes).Distinct().Order().ToArray());
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<PictureOptions>>().Value;
            return new ImagePipeline(new ImagingOptions
            {
                Sizes = o.Sizes, MaxPixels = o.MaxPixels, MaxConcurrency = o.MaxConcurrentDecodes, MaxQueued = o.MaxQueuedDecodes,
            });
        });
        services.AddSingleton(sp => sp.GetRequiredService<ImagePipeline>().Files); // the names of a picture's files, for the stores and the image routes
        services.AddSingleton<PictureService>();
    }
}

/// <summary>Section Pictures: what an upload may be, how many a user keeps, and the variant sizes.</summary>
public sealed record PictureOptions : IValidatableObject
{
    public const string Section = "Pictures";

    [Range(1, int.MaxValue, ErrorMessage = "expected the largest upload in bytes, at least 1 (default 10485760).")]
    public long MaxUploadBytes { get; init; } = 10 * 1024 * 1024;
    [Range(1, int.MaxValue, ErrorMessage = "expected the pictures one user may keep (trash included), at least 1.")]
    public int MaxPicturesPerUser { get; init; } = 100;
    [Range(1, long.MaxValue, ErrorMessage = "expected the largest image in pixels (width × height), at least 1.")]
    public long MaxPixels { get; init; } = 40_000_000;
    /// <summary>
    /// Variant sizes, distinct and ascending; empty (as when absent) stands for <see cref="DefaultSizes"/>.
    /// No initial values here: configuration binding appends to an array instead of replacing it.
    /// </summary>
    public int[] Sizes { get; set; } = [];

    public static readonly int[] DefaultSizes = [32, 64, 128, 256, 512];

    [Range(0, 1024, ErrorMessage = "expected the image decodes run in parallel, 0 (one per core) to 1024.")]
    public int MaxConcurrentDecodes { get; init; }
    [Range(0, 100_000, ErrorMessage = "expected the image decodes that may wait, 0 to 100000.")]
    public int MaxQueuedDecodes { get; init; } = 32;

    public const int LargestSize = 2048;

    public IEnumerable<ValidationResult> Validate(ValidationContext context)
    {
        // The binder silently drops array items it cannot convert: the raw values are checked (the one read of IConfiguration here).
        foreach (var item in context.GetRequiredService<IConfiguration>().GetSection("Pictures:Sizes").GetChildren())
            if (!int.TryParse(item.Value, out _))
                yield return new ValidationResult("expected a whole number of pixels.", [$"{nameof(Sizes)}:{item.Key}"]);
        if (Sizes.Length == 0 || Sizes.Length > 16 || Sizes.Any(s => s is < 1 or > LargestSize))
            yield return new ValidationResult(
                $"expected a list of 1 to 16 square sizes in pixels, each from 1 to {LargestSize}, e.g. [32, 64, 128, 256, 512].", [nameof(Sizes)]);
    }
}

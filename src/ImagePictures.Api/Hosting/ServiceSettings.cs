using System.ComponentModel.DataAnnotations;
using ImagePictures.Api.Auth;
using ImagePictures.Api.Operations;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Realtime;

namespace ImagePictures.Api.Hosting;

/// <summary>Every settings section the service checks at start (see <see cref="Settings"/>).</summary>
public static class ServiceSettings
{
    public static void AddServiceSettings(this IServiceCollection services)
    {
        services.AddSettings<AuthSettings>("Auth");
        services.AddSettings<PictureOptions>("Pictures").PostConfigure(o => o.Sizes = o.Sizes.Distinct().Order().ToArray());
        services.AddSettings<RateLimitSettings>("RateLimits");
        services.AddSettings<TrashSettings>("Trash");
        services.AddSettings<UploadSettings>("Uploads");
        services.AddSettings<OrphanSweepSettings>("OrphanSweep");
        services.AddSettings<EventRetentionSettings>("Events");
        services.AddSettings<JobSettings>("Jobs");
        services.AddSettings<RealtimeOptions>("Realtime");
        services.AddSettings<MetricsSettings>("Metrics");
        services.AddSettings<DocsSettings>("Docs");
        services.AddSettings<ForwardedHeadersSettings>("ForwardedHeaders");
    }
}

// The sections below are read where they are used (IConfiguration); these classes only check them.

public sealed class RateLimitSettings
{
    [Range(1, int.MaxValue, ErrorMessage = "expected the uploads one user may make per minute, at least 1.")]
    public int UploadsPerMinute { get; set; } = 30;
}

public sealed class TrashSettings
{
    [Range(0, 36500, ErrorMessage = "expected the days a trashed picture is kept, from 0 to 36500.")]
    public int RetentionDays { get; set; } = 30;
}

public sealed class UploadSettings
{
    [Range(0.001, 8760, ErrorMessage = "expected the hours a staged upload is kept, more than 0 and at most 8760.")]
    public double TempTtlHours { get; set; } = 2;

    /// <summary>Open (uncommitted, unexpired) staged uploads one user may hold; read through IOptions by <c>UploadSessions</c>.</summary>
    [Range(1, 1000, ErrorMessage = "expected the open staged uploads one user may hold, from 1 to 1000.")]
    public int MaxStagedPerUser { get; set; } = 5;
}

public sealed class OrphanSweepSettings
{
    [Range(0, 525600, ErrorMessage = "expected the minutes an unowned folder is left alone, from 0 to 525600.")]
    public double GraceMinutes { get; set; } = 60;
}

public sealed class EventRetentionSettings
{
    [Range(0, 36500, ErrorMessage = "expected the days events are kept, from 0 to 36500.")]
    public double RetentionDays { get; set; } = 7;
}

/// <summary>Jobs:BatchSize and, for each job, Jobs:{name}:Cron (empty or absent: the job's default).</summary>
public sealed class JobSettings : IValidatableObject
{
    [Range(1, 100_000, ErrorMessage = "expected the rows one job batch handles, from 1 to 100000.")]
    public int BatchSize { get; set; } = 500;

    public IEnumerable<ValidationResult> Validate(ValidationContext context)
    {
        var jobs = context.GetRequiredService<IConfiguration>().GetSection("Jobs");
        foreach (var job in jobs.GetChildren())
        {
            if (job["Cron"] is { Length: > 0 } cron && !FiveFieldCronAttribute.IsFiveFieldCron(cron))
                yield return new ValidationResult(FiveFieldCronAttribute.Expected, [$"{job.Key}:Cron"]);
        }
    }
}

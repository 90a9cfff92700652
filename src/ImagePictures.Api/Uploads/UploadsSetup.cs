using ImagePictures.Api.Hosting;

namespace ImagePictures.Api.Uploads;

public static class UploadsSetup
{
    /// <summary>Two-step uploads: the staged sessions, their admin clean-up and the per-user upload rate (direct uploads share it).</summary>
    public static void AddUploads(this WebApplicationBuilder builder)
    {
        builder.Services.AddSettings<UploadOptions>(UploadOptions.Section);
        builder.Services.AddSettings<RateLimitOptions>(RateLimitOptions.Section);
        builder.AddUploadRateLimit();
        builder.Services.AddSingleton<UploadSessions>();
        builder.Services.AddSingleton<UploadCleanup>();
    }
}

using ImagePictures.Api.Hosting;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace ImagePictures.Api.Storage;

/// <summary>Section Storage: where pictures live (see docs/storage.md).</summary>
public sealed class StorageOptions
{
    public const string Section = "Storage";
    public const string FileSystem = "FileSystem", S3Provider = "S3";

    public string Provider { get; set; } = FileSystem;
    /// <summary>The file-system store's root, relative to the repository unless absolute.</summary>
    public string Root { get; set; } = "images";
    public S3StorageOptions S3 { get; set; } = new();

    public bool IsS3 => string.Equals(Provider, S3Provider, StringComparison.OrdinalIgnoreCase);
}

public sealed class S3StorageOptions
{
    public string ServiceUrl { get; set; } = "";
    public string Region { get; set; } = "us-east-1";
    public string Bucket { get; set; } = "";
    public string AccessKey { get; set; } = "";
    public string SecretKey { get; set; } = "";
    public bool ForcePathStyle { get; set; }
    public string Prefix { get; set; } = "";

    public string EffectiveRegion => string.IsNullOrWhiteSpace(Region) ? "us-east-1" : Region;

    /// <summary>"pictures" and "pictures/" both put keys under pictures/.</summary>
    public string NormalizedPrefix => Prefix is { Length: > 0 } p && !p.EndsWith('/') ? p + "/" : Prefix ?? "";
}

/// <summary>
/// Storage:Provider picks the store: FileSystem (default) or S3. The settings are checked when the
/// host starts and the S3 bucket is probed once; either failure stops the start with the setting's name.
/// </summary>
public static class StorageSetup
{
    public static void AddPictureStorage(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<StorageOptions>(StorageOptions.Section);
        services.AddSingleton<IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        services.AddSingleton<PictureStore>(sp => sp.GetRequiredService<IOptions<StorageOptions>>().Value.IsS3
            ? ActivatorUtilities.CreateInstance<S3PictureStore>(sp)
            : ActivatorUtilities.CreateInstance<FileSystemPictureStore>(sp));
        services.AddHostedService<StorageStartupCheck>();
    }

    private sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
    {
        public ValidateOptionsResult Validate(string? name, StorageOptions o)
        {
            var errors = new List<string>();
            if (!o.IsS3 && !string.Equals(o.Provider, StorageOptions.FileSystem, StringComparison.OrdinalIgnoreCase))
                errors.Add($"Storage:Provider '{o.Provider}' is not known: use FileSystem or S3.");
            if (!o.IsS3 && string.IsNullOrWhiteSpace(o.Root))
                errors.Add("Storage:Root: expected the folder pictures are stored in, e.g. images (relative to the repository).");
            if (o.IsS3)
            {
                var s3 = o.S3;
                if (string.IsNullOrWhiteSpace(s3.Bucket)) errors.Add("Storage:S3:Bucket is required when Storage:Provider is S3.");
                if (s3.ServiceUrl is { Length: > 0 } url && !(Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
                    errors.Add($"Storage:S3:ServiceUrl '{url}' is not an http(s) URL; leave it empty for AWS S3.");
                if (string.IsNullOrEmpty(s3.AccessKey) != string.IsNullOrEmpty(s3.SecretKey))
                    errors.Add("Storage:S3:AccessKey and Storage:S3:SecretKey go together: set both, or neither to use the SDK's default credential chain.");
                if (s3.Prefix is { Length: > 0 } p && (p.StartsWith('/') || p.Contains("..") || p.Contains('\\') || p.Contains("//")))
                    errors.Add($"Storage:S3:Prefix '{p}' must be a relative key prefix such as 'pictures/' (no leading '/', '..' or '\\').");
            }
            return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
        }
    }

    /// <summary>Probes the store once before the service takes requests (see <see cref="PictureStore.VerifyAtStartAsync"/>).</summary>
    private sealed class StorageStartupCheck(PictureStore store, ILogger<StorageStartupCheck> log) : IHostedService
    {
        public async Task StartAsync(CancellationToken ct)
        {
            await store.VerifyAtStartAsync(log, ct);
            log.LogInformation("Pictures are stored in {Store}", store.Description);
        }

        public Task StopAsync(CancellationToken ct) => Task.CompletedTask;
    }
}

/// <summary>The readiness check "storage": the store answers, and the default picture is there.</summary>
public sealed class StorageHealthCheck(PictureStore store, IConfiguration config) : IHealthCheck
{
    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct)
    {
        try
        {
            await store.CheckAsync(ct);
            return File.Exists(PictureStore.DefaultPicturePath(config)) ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("default picture missing");
        }
        catch (StorageException e) { return HealthCheckResult.Unhealthy($"{store.Description} is not usable", e); }
    }
}

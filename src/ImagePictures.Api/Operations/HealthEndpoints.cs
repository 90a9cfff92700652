using System.Text.Json;
using Dapper;
using ImagePictures.Api.Storage;
using ImagePictures.Imaging;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Npgsql;

namespace ImagePictures.Api.Operations;

/// <summary>
/// /health/live answers while the process runs; /health/ready checks PostgreSQL, storage and libvips
/// (503 when one fails). A degraded check (the event sinks) keeps the service ready and is listed
/// under "degraded" with what is wrong.
/// </summary>
public static class HealthEndpoints
{
    public static void AddPicturesHealthChecks(this WebApplicationBuilder builder) =>
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseCheck>("postgresql", tags: ["ready"], timeout: TimeSpan.FromSeconds(3))
            .AddCheck<StorageHealthCheck>("storage", tags: ["ready"], timeout: TimeSpan.FromSeconds(3))
            .AddCheck<ImagingCheck>("libvips", tags: ["ready"], timeout: TimeSpan.FromSeconds(3));

    public static void MapHealth(this IEndpointRouteBuilder app)
    {
        app.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false }).AllowAnonymous();
        app.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains("ready"), ResponseWriter = WriteReport }).AllowAnonymous();
    }

    private static Task WriteReport(HttpContext http, HealthReport report)
    {
        var failing = report.Entries.Where(e => e.Value.Status == HealthStatus.Unhealthy).Select(e => e.Key).ToArray();
        if (failing.Length == 0)
        {
            var degraded = report.Entries.Where(e => e.Value.Status == HealthStatus.Degraded)
                .ToDictionary(e => e.Key, e => e.Value.Description ?? "degraded");
            http.Response.ContentType = "application/json";
            return http.Response.WriteAsync(degraded.Count == 0
                ? JsonSerializer.Serialize(new { status = "ready", checks = report.Entries.Keys })
                : JsonSerializer.Serialize(new { status = "ready", checks = report.Entries.Keys, degraded }));
        }
        return Problems.Write(http, 503, "Not ready", $"Failing checks: {string.Join(", ", failing)}.", retryAfterSeconds: 5);
    }

    private sealed class DatabaseCheck(NpgsqlDataSource db) : IHealthCheck
    {
        public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct)
        {
            try
            {
                await using var conn = await db.OpenConnectionAsync(ct);
                await conn.ExecuteScalarAsync<int>("SELECT 1");
                return HealthCheckResult.Healthy();
            }
            catch (Exception e) { return HealthCheckResult.Unhealthy("PostgreSQL does not answer", e); }
        }
    }

    private sealed class ImagingCheck(ImagePipeline imaging) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct)
        {
            try { return Task.FromResult(imaging.SelfCheck() ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("libvips self-check failed")); }
            catch (Exception e) { return Task.FromResult(HealthCheckResult.Unhealthy("libvips is not usable", e)); }
        }
    }
}

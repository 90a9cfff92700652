using System.Threading.RateLimiting;
using ImagePictures.Api.Auth;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace ImagePictures.Api.Uploads;

/// <summary>A token bucket per user on uploads (RateLimits:UploadsPerMinute), answered with 429 + Retry-After.</summary>
public static class UploadRateLimit
{
    private const string Policy = "uploads-per-user";

    public static void AddUploadRateLimit(this WebApplicationBuilder builder) =>
        builder.Services.AddRateLimiter(options =>
        {
            options.AddPolicy(Policy, http =>
            {
                var perMinute = PerMinute(http);
                return RateLimitPartition.GetTokenBucketLimiter(http.User.UserId() ?? "anonymous", _ => new TokenBucketRateLimiterOptions
                {
                    TokenLimit = perMinute,
                    TokensPerPeriod = perMinute,
                    ReplenishmentPeriod = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                    AutoReplenishment = true,
                });
            });
            options.OnRejected = async (ctx, ct) =>
            {
                var retry = ctx.Lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? (int)Math.Ceiling(after.TotalSeconds) : 60;
                await Problems.Write(ctx.HttpContext, StatusCodes.Status429TooManyRequests, "Too many uploads",
                    $"You may upload {PerMinute(ctx.HttpContext)} pictures per minute. Try again in {retry} seconds.", retry);
            };
        });

    public static TBuilder RequirePerUserUploadLimit<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.RequireRateLimiting(Policy);

    // The policy has no services of its own: the request's are asked (settings given by a test host apply).
    private static int PerMinute(HttpContext http) =>
        http.RequestServices.GetRequiredService<IOptionsMonitor<RateLimitOptions>>().CurrentValue.UploadsPerMinute;
}

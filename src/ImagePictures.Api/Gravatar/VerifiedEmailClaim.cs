using System.Collections.Concurrent;
using ImagePictures.Api.Auth;
using ImagePictures.Api.Avatars;
using Microsoft.Extensions.Options;

namespace ImagePictures.Api.Gravatar;

/// <summary>
/// Avatars:TrustVerifiedEmailClaim: a token with <c>email</c> and <c>email_verified: true</c> registers
/// that address for its <c>sub</c> on the first authenticated request, so deployments with an OIDC
/// provider need no provisioning call. Each (sub, address) pair is tried once per process (a set in
/// memory, of hashes: no address is kept), so later requests cost hashing the address and one lookup. A failure never fails the request: the
/// pair is tried again on the next one.
/// </summary>
public static class VerifiedEmailClaim
{
    private const int MaxRemembered = 100_000;

    public static void UseVerifiedEmailClaims(this IApplicationBuilder app)
    {
        var settings = app.ApplicationServices.GetRequiredService<IOptions<AvatarOptions>>().Value;
        if (!settings.TrustVerifiedEmailClaim) return;
        var emails = app.ApplicationServices.GetRequiredService<EmailAddresses>();
        var log = app.ApplicationServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(VerifiedEmailClaim));
        var seen = new ConcurrentDictionary<(string Sub, string Sha256), byte>();
        app.Use(async (http, next) =>
        {
            var user = http.User;
            if (user.Identity?.IsAuthenticated == true && user.FindFirst("email")?.Value is { } email
                && user.FindFirst("email_verified")?.Value is { } verified && verified.Equals("true", StringComparison.OrdinalIgnoreCase)
                && user.UserId() is { } sub && UserIds.IsValid(sub) && EmailAddresses.IsValid(email)
                && EmailAddresses.Hash(email) is var hash && !seen.ContainsKey((sub, hash.Sha256)))
            {
                try
                {
                    await emails.ClaimAsync(sub, hash, http.RequestAborted);
                    if (seen.Count >= MaxRemembered) seen.Clear(); // at worst, one more cheap no-op insert per user
                    seen.TryAdd((sub, hash.Sha256), 0);
                }
                catch (EmailAddresses.HeldByAnotherUserException)
                {
                    seen.TryAdd((sub, hash.Sha256), 0);
                }
                catch (Exception e) when (e is Npgsql.NpgsqlException or TimeoutException or OperationCanceledException)
                {
                    log.LogWarning("The verified e-mail address of a token could not be registered now ({Error}); retried on a later request", e.GetType().Name);
                }
            }
            await next(http);
        });
    }
}

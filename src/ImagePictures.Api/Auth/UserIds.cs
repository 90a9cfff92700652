using System.Text.RegularExpressions;

namespace ImagePictures.Api.Auth;

public static partial class UserIds
{
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
    private static partial Regex Pattern();

    public static bool IsValid(string? userId) => userId is not null && Pattern().IsMatch(userId);
}

/// <summary>Thrown when the caller may not act on the user in the route: always 403, never 404.</summary>
public sealed class AccessDeniedException(string detail) : Exception(detail);

/// <summary>
/// The user a /api/users/{userId}/… route acts on: 'me' resolved to the caller, the id validated
/// (400) and the caller checked (403) before any handler runs. Binding it is the access check.
/// </summary>
public sealed record Owner(string Id)
{
    public static ValueTask<Owner?> BindAsync(HttpContext http) => ValueTask.FromResult<Owner?>(new(Resolve(http, allowProvisioning: false)));

    internal static string Resolve(HttpContext http, bool allowProvisioning)
    {
        var raw = http.Request.RouteValues["userId"] as string;
        var caller = http.User.UserId();
        var userId = raw == "me" ? caller : raw;
        if (!UserIds.IsValid(userId))
            throw new BadHttpRequestException("The user id in the route is not valid: it must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit (or 'me').");
        if (userId != caller && !http.User.IsAdmin() && !(allowProvisioning && http.User.CanProvision()))
            throw new AccessDeniedException("You may only act on your own pictures.");
        return userId!;
    }
}

/// <summary>Like <see cref="Owner"/>, but the sign-up service (scope pictures:provision) may act on anyone.</summary>
public sealed record ProvisionTarget(string Id)
{
    public static ValueTask<ProvisionTarget?> BindAsync(HttpContext http) => ValueTask.FromResult<ProvisionTarget?>(new(Owner.Resolve(http, allowProvisioning: true)));
}

using System.Text.RegularExpressions;

namespace ImagePictures.Api.Auth;

public static class DevTokenEndpoints
{
    public sealed record DevTokenRequest(string? UserId, string[]? Roles, string[]? Scopes);
    public sealed record DevTokenResponse(string AccessToken, DateTimeOffset ExpiresAt);

    /// <summary>Only mapped in Development: everywhere else the route does not exist (404).</summary>
    public static void MapDevTokens(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment()) return;
        app.MapPost("/dev/token", (DevTokenRequest? body, DevTokens tokens) =>
        {
            if (body?.UserId is not { } userId || !UserIds.IsValid(userId))
                return Problems.Result(400, "Invalid user id", "Send {\"userId\":\"alice\"}; a user id is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.");
            var (token, expires) = tokens.Create(userId, body.Roles, body.Scopes);
            return Results.Ok(new DevTokenResponse(token, expires));
        }).AllowAnonymous().ExcludeFromDescription();
    }
}

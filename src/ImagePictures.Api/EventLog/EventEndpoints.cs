using Dapper;
using ImagePictures.Api.Auth;
using Npgsql;

namespace ImagePictures.Api.EventLog;

public static class EventEndpoints
{
    public const int DefaultLimit = 100, MaxLimit = 1000;

    /// <summary>GET /api/users/{userId}/events?after={seq}&amp;limit={n}: what a reconnecting client missed, oldest first.</summary>
    public static RouteHandlerBuilder MapEvents(this IEndpointRouteBuilder app) =>
        app.MapGet("/api/users/{userId}/events", List).RequireAuthorization().WithTags("Events").WithName("ListEvents")
            .WithSummary("Events after a seq, oldest first (catch-up after a reconnect)")
            .Produces<List<PictureEvent>>().ProducesProblem(400).ProducesProblem(401).ProducesProblem(403).ProducesProblem(503);

    private static async Task<IResult> List(Owner owner, long? after, int? limit, NpgsqlDataSource db, CancellationToken ct)
    {
        if (after is < 0) throw new BadHttpRequestException("'after' must be a seq of 0 or more (the last seq you received).");
        if (limit is < 1 or > MaxLimit) throw new BadHttpRequestException($"'limit' must be between 1 and {MaxLimit}.");
        await using var conn = await db.OpenConnectionAsync(ct);
        var rows = await conn.QueryAsync<EventRow>(new CommandDefinition(
            $"SELECT {EventRow.SelectColumns} FROM events WHERE user_id = @userId AND seq > @after ORDER BY seq LIMIT @limit",
            new { userId = owner.Id, after = after ?? 0, limit = limit ?? DefaultLimit }, cancellationToken: ct));
        return Results.Ok(rows.Select(r => r.ToEvent()).ToList());
    }
}

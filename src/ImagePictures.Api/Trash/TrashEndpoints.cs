using ImagePictures.Api.Auth;
using ImagePictures.Api.Operations;
using ImagePictures.Api.Pictures;

namespace ImagePictures.Api.Trash;

/// <summary>
/// The trash of a user: list, restore, purge one, empty. Binding <see cref="Owner"/> is the access
/// check (owner or admin, else 403). Purging deletes the files first and the row after: a storage
/// failure keeps the row (503 for one picture, counted as failed when emptying) and the next purge retries.
/// </summary>
public static class TrashEndpoints
{

    public static RouteGroupBuilder MapTrash(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/users/{userId}/trash").RequireAuthorization().WithTags("Trash").ProducesCommonProblems();
        group.MapGet("/", List).WithName("ListTrash").WithSummary("List trashed pictures, newest first").Produces<List<PictureJson>>();
        group.MapPost("/{pictureId}/restore", Restore).WithName("RestorePicture").WithSummary("Restore a trashed picture")
            .Produces<PictureJson>().ProducesProblem(404);
        group.MapDelete("/{pictureId}", Purge).WithName("PurgePicture").WithSummary("Purge a trashed picture now (files, then row)")
            .Produces(204).ProducesProblem(404);
        group.MapDelete("/", Empty).WithName("EmptyTrash").WithSummary("Empty the trash").Produces<CleanupCounts>();
        return group;
    }

    private static async Task<IResult> List(Owner owner, TrashService trash, CancellationToken ct) =>
        Results.Ok(await trash.ListAsync(owner.Id, ct));

    private static async Task<IResult> Restore(Owner owner, Guid pictureId, TrashService trash, CancellationToken ct) =>
        await trash.RestoreAsync(owner.Id, pictureId, ct) is { } picture ? Results.Ok(picture) : NotInTrash();

    private static async Task<IResult> Purge(Owner owner, Guid pictureId, TrashService trash, CancellationToken ct) =>
        await trash.PurgeAsync(owner.Id, pictureId, ct) ? Results.NoContent() : NotInTrash();

    /// <summary>Always 200 with the counts, also when some pictures failed: the caller sees how many are left and may retry.</summary>
    private static async Task<IResult> Empty(Owner owner, TrashService trash, CancellationToken ct)
    {
        var counts = await trash.EmptyAsync(owner.Id, ct);
        return Results.Ok(new CleanupCounts(counts.Found, counts.Deleted, counts.Failed));
    }

    private static IResult NotInTrash() => Problems.NotFound("This user has no picture with that id in the trash.");
}

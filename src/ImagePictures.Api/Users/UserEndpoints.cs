using ImagePictures.Api.Auth;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Avatars;
using ImagePictures.Api.Operations;

namespace ImagePictures.Api.Users;

/// <summary>Sign-up and account deletion: the user, an admin, or the sign-up service (scope pictures:provision).</summary>
public static class UserEndpoints
{
    public sealed record DeletedCount(int Deleted);

    public static void MapUsers(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/users/{userId}").RequireAuthorization().WithTags("Users").ProducesCommonProblems();
        group.MapPost("/default-picture", CreateDefault).WithName("CreateDefaultPicture")
            .WithSummary("Give a new user the default picture (idempotent: 201 the first time, 200 after)")
            .Produces<PictureJson>(201).Produces<PictureJson>().ProducesProblem(409);
        group.MapDelete("", DeleteUser).WithName("DeleteUser").WithSummary("Delete every picture and file of a user").Produces<DeletedCount>();
    }

    /// <summary>Idempotent: the first call copies the default picture (201), every later call returns it (200).</summary>
    private static async Task<IResult> CreateDefault(ProvisionTarget target, PictureService pictures, DefaultAvatar defaults, CancellationToken ct)
    {
        var prepared = await defaults.GetAsync();
        var (picture, created) = await pictures.CreateAsync(target.Id, prepared.Picture, title: null, activate: false, isDefault: true, ct);
        return created ? Results.Created($"/api/users/{target.Id}/pictures/{picture.Id}", picture) : Results.Ok(picture);
    }

    private static async Task<IResult> DeleteUser(ProvisionTarget target, UserService users, Gravatar.EmailHashIndex emails, CancellationToken ct)
    {
        var (deleted, seq) = await users.DeleteAsync(target.Id, ct);
        emails.SetUser(target.Id, [], seq); // its addresses went in the same transaction; the other instances hear UserPicturesDeleted
        return Results.Ok(new DeletedCount(deleted));
    }
}

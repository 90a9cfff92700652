using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using ImagePictures.Api.Auth;
using ImagePictures.Api.Operations;
using ImagePictures.Api.Uploads;
using ImagePictures.Imaging;
using Microsoft.Extensions.Options;

namespace ImagePictures.Api.Pictures;

public static class PictureEndpoints
{
    /// <summary>
    /// <c>{"title":"…"}</c>, or <c>{"title":null}</c> to clear it. Whether the body named the title
    /// at all is kept, so that <c>{}</c> (a client that leaves out null fields) is refused rather than
    /// taken as "clear the title".
    /// </summary>
    public sealed class RenameRequest
    {
        [Required]
        public string? Title { get; set { field = value; HasTitle = true; } }

        [JsonIgnore] public bool HasTitle { get; private set; }
    }
    public sealed record SetActiveRequest(Guid? PictureId);

    /// <summary>The /api/users/{userId}/… picture routes. Binding <see cref="Owner"/> is the access check.</summary>
    public static RouteGroupBuilder MapPictures(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/users/{userId}").RequireAuthorization().WithTags("Pictures").ProducesCommonProblems();
        group.MapPost("/pictures", Upload).RequirePerUserUploadLimit().RecordsUploads().WithName("UploadPicture")
            .WithSummary("Upload a picture").AcceptsMultipartUpload(withTitle: true)
            .WithDescription("multipart/form-data with a 'file' field and an optional 'title' field; ?activate=true makes it the avatar.")
            .Produces<PictureJson>(201).ProducesProblem(409).ProducesProblem(413).ProducesProblem(415).ProducesProblem(422).ProducesProblem(429).ProducesProblem(507);
        group.MapGet("/pictures", List).WithName("ListPictures").WithSummary("List live pictures, newest first").Produces<List<PictureJson>>();
        group.MapGet("/pictures/{pictureId}", Get).WithName("GetPicture").WithSummary("Get one live picture").Produces<PictureJson>().ProducesProblem(404);
        group.MapPatch("/pictures/{pictureId}", Rename).WithName("RenamePicture").WithSummary("Rename a picture (null title clears it)")
            .WithDescription("The body is {\"title\":\"…\"} (at most 200 characters); {\"title\":null} clears the title. A body without title is 400.")
            .Produces<PictureJson>().ProducesProblem(404);
        group.MapDelete("/pictures/{pictureId}", Trash).WithName("TrashPicture").WithSummary("Move a picture to the trash")
            .Produces<PictureJson>().ProducesProblem(404);
        group.MapGet("/active-picture", GetActive).WithName("GetActivePicture").WithSummary("Get the avatar").Produces<PictureJson>().ProducesProblem(404);
        group.MapPut("/active-picture", SetActive).WithName("SetActivePicture").WithSummary("Set the avatar").Produces<PictureJson>().ProducesProblem(404);
        return group;
    }

    private static async Task<IResult> Upload(Owner owner, HttpRequest request, bool? activate, PictureService pictures,
        ImagePipeline imaging, IOptions<PictureOptions> options, PicturesMetrics metrics, CancellationToken ct)
    {
        NormalizedPicture normalized;
        string? title;
        // The upload's bytes are freed as soon as the picture is normalised.
        using (var upload = await UploadForm.ReadAsync(request, options.Value.MaxUploadBytes, ct))
        {
            await pictures.EnsureQuotaAsync(owner.Id, ct);
            using (metrics.TimeNormalize()) normalized = await imaging.NormalizeAsync(upload.Bytes, ct: ct);
            title = upload.Title;
        }
        var (picture, _) = await pictures.CreateAsync(owner.Id, normalized, title, activate ?? false, isDefault: false, ct);
        return Results.Created($"/api/users/{owner.Id}/pictures/{picture.Id}", picture);
    }

    private static async Task<IResult> List(Owner owner, PictureService pictures, CancellationToken ct) =>
        Results.Ok(await pictures.ListAsync(owner.Id, trashed: false, ct));

    private static async Task<IResult> Get(Owner owner, Guid pictureId, PictureService pictures, CancellationToken ct) =>
        await pictures.FindAsync(owner.Id, pictureId, trashed: false, ct) is { } row
            ? Results.Ok(pictures.Json(row))
            : Problems.NotFound("This user has no live picture with that id.");

    private static async Task<IResult> Rename(Owner owner, Guid pictureId, RenameRequest body, PictureService pictures, CancellationToken ct)
    {
        if (!body.HasTitle)
            return Problems.Result(400, "Missing title", "The body holds one field, \"title\": a new title of at most 200 characters, or null to clear it (as {\"title\":null}).");
        if (PictureTitles.Problem(body.Title) is { } problem) return Problems.Result(400, "Invalid title", problem);
        var title = string.IsNullOrWhiteSpace(body.Title) ? null : body.Title;
        return await pictures.RenameAsync(owner.Id, pictureId, title, ct) is { } picture
            ? Results.Ok(picture)
            : Problems.NotFound("This user has no live picture with that id.");
    }

    private static async Task<IResult> Trash(Owner owner, Guid pictureId, Trash.TrashService trash, CancellationToken ct) =>
        await trash.TrashAsync(owner.Id, pictureId, ct) is { } picture
            ? Results.Ok(picture)
            : Problems.NotFound("This user has no live picture with that id.");

    private static async Task<IResult> GetActive(Owner owner, PictureService pictures, CancellationToken ct) =>
        await pictures.ActiveAsync(owner.Id, ct) is { } row
            ? Results.Ok(pictures.Json(row))
            : Problems.NotFound("This user has no active picture; /avatars serves the default image.");

    private static async Task<IResult> SetActive(Owner owner, SetActiveRequest body, PictureService pictures, CancellationToken ct)
    {
        if (body.PictureId is not { } pictureId) return Problems.Result(400, "Missing pictureId", "Send {\"pictureId\":\"…\"} with the id of a live picture.");
        return await pictures.SetActiveAsync(owner.Id, pictureId, ct) is { } picture
            ? Results.Ok(picture)
            : Problems.NotFound("This user has no live picture with that id (it may be in the trash).");
    }
}

using ImagePictures.Api.Auth;
using ImagePictures.Api.Operations;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Storage;
using ImagePictures.Imaging;
using Microsoft.Extensions.Options;

namespace ImagePictures.Api.Uploads;

/// <summary>
/// Two-step uploads: stage (validated, oriented, stripped, at most 2048 px, not cropped), preview,
/// then commit with an optional crop. Always the caller's own: another user's upload is 404, because
/// for this caller it does not exist.
/// </summary>
public static class UploadEndpoints
{
    public const int MinCropSide = 32;

    public static RouteGroupBuilder MapUploads(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/uploads").RequireAuthorization().WithTags("Uploads").ProducesCommonProblems();
        // No Accepts<IFormFile>: that would make a non-multipart body 415 before UploadForm can answer 400, as the one-step upload does.
        group.MapPost("/", Stage).RequirePerUserUploadLimit().RecordsUploads().WithName("StageUpload")
            .WithSummary("Stage an image for a later commit (two-step upload)").AcceptsMultipartUpload(withTitle: false)
            .WithDescription("multipart/form-data with a 'file' field; answers the staged upload's id, expiry, size and preview URL.")
            .Produces<StagedUploadJson>(201).ProducesProblem(409).ProducesProblem(413).ProducesProblem(415).ProducesProblem(422).ProducesProblem(429).ProducesProblem(507);
        group.MapGet("/{uploadId}/preview", Preview).WithName("PreviewUpload").WithSummary("The staged image, normalised, not cropped")
            .Produces<Stream>(200, "image/jpeg", "image/png", "image/webp").ProducesProblem(404);
        group.MapPost("/{uploadId}/commit", Commit).WithName("CommitUpload").WithSummary("Turn a staged upload into a picture, optionally cropped")
            .Produces<PictureJson>(201).ProducesProblem(404).ProducesProblem(409).ProducesProblem(422);
        group.MapDelete("/{uploadId}", Delete).WithName("DeleteUpload").WithSummary("Abandon a staged upload").Produces(204).ProducesProblem(404);
        return group;
    }

    private static string Caller(HttpContext http) =>
        http.User.UserId() is { } id && UserIds.IsValid(id)
            ? id
            : throw new AccessDeniedException("Your token's subject is not a valid user id, so it cannot own uploads.");

    private static async Task<IResult> Stage(HttpContext http, ImagePipeline imaging, UploadSessions uploads, PictureService pictures,
        IOptions<PictureOptions> options, CancellationToken ct)
    {
        var userId = Caller(http);
        using var upload = await UploadForm.ReadAsync(http.Request, options.Value.MaxUploadBytes, ct);
        // Both before decoding, as on the one-step upload: a full quota or too many open uploads cost no CPU.
        await pictures.EnsureQuotaAsync(userId, ct);
        await uploads.EnsureRoomAsync(userId, ct);
        var staged = await imaging.StageAsync(upload.Bytes, ct);
        var row = await uploads.StageAsync(userId, staged, ct);
        var s = staged.SuggestedCrop;
        var json = ToJson(row, new CropJson(s.X, s.Y, s.Width, s.Height));
        return Results.Created(json.PreviewUrl, json);
    }

    private static async Task<IResult> Preview(HttpContext http, Guid uploadId, UploadSessions uploads, CancellationToken ct)
    {
        if (await uploads.FindLiveAsync(Caller(http), uploadId, ct) is not { } row) return NotFound();
        StoredFile file;
        try { file = await uploads.ReadFileAsync(row, ct); }
        catch (UploadGoneException) { return NotFound(); }
        http.Response.Headers.CacheControl = "private, no-store";
        http.Response.Headers.XContentTypeOptions = "nosniff";
        return Results.File(file.Bytes, ImagePipeline.ContentTypeFor(row.FileName));
    }

    private static async Task<IResult> Commit(HttpContext http, Guid uploadId, CommitRequest body, UploadSessions uploads,
        ImagePipeline imaging, PictureService pictures, PicturesMetrics metrics, CancellationToken ct)
    {
        var userId = Caller(http);
        var (state, picture) = await uploads.CommitAsync(userId, uploadId, async (row, claim) =>
        {
            var crop = CheckCrop(body.Crop, row);
            await pictures.EnsureQuotaAsync(userId, ct);
            var bytes = (await uploads.ReadFileAsync(row, ct)).Bytes;
            NormalizedPicture normalized;
            try { using (metrics.TimeNormalize()) normalized = await imaging.NormalizeAsync(bytes, crop, ct); }
            catch (ArgumentOutOfRangeException) { throw new BadHttpRequestException(CropDetail(row)); }
            var (created, _) = await pictures.CreateAsync(userId, normalized, title: null, body.Activate, isDefault: false, ct, claim);
            return created;
        }, ct);
        return state switch
        {
            UploadSessions.CommitState.Committed => Results.Created($"/api/users/{userId}/pictures/{picture!.Id}", picture),
            UploadSessions.CommitState.AlreadyCommitted => Problems.Result(409, "Already committed",
                "This upload has already become a picture; find it in your pictures."),
            _ => NotFound(),
        };
    }

    private static CropRect? CheckCrop(CropJson? crop, StagedUploadRow row)
    {
        if (crop is null) return null;
        var inside = crop.X >= 0 && crop.Y >= 0 && crop.Width >= MinCropSide && crop.Height >= MinCropSide
                     && (long)crop.X + crop.Width <= row.Width && (long)crop.Y + crop.Height <= row.Height;
        if (!inside) throw new BadHttpRequestException(CropDetail(row));
        return new CropRect(crop.X, crop.Y, crop.Width, crop.Height);
    }

    private static string CropDetail(StagedUploadRow row) =>
        $"The crop must lie inside the staged image ({row.Width}x{row.Height} pixels) and be at least {MinCropSide}x{MinCropSide} pixels.";

    private static async Task<IResult> Delete(HttpContext http, Guid uploadId, UploadSessions uploads, CancellationToken ct) =>
        await uploads.DeleteOwnAsync(Caller(http), uploadId, ct) ? Results.NoContent() : NotFound();

    private static IResult NotFound() =>
        Problems.NotFound("You have no staged upload with that id; it may have expired, been committed or never existed. Upload the image again.");

    private static StagedUploadJson ToJson(StagedUploadRow row, CropJson suggestedCrop) =>
        new(row.Id, DateTime.SpecifyKind(row.ExpiresAt, DateTimeKind.Utc), row.Width, row.Height, $"/api/uploads/{row.Id}/preview", suggestedCrop);
}

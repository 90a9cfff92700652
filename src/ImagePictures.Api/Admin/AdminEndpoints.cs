using System.ComponentModel.DataAnnotations;
using ImagePictures.Api.Auth;
using ImagePictures.Api.Jobs;
using ImagePictures.Api.Operations;
using ImagePictures.Api.Uploads;

// Not "…Admin": the tests use "Admin" as a caller name inside ImagePictures.Api.Tests, which a namespace would shadow.
namespace ImagePictures.Api.Administration;

/// <summary>The admin API (role admin; others 403, anonymous 401): staged uploads and the scheduled jobs.</summary>
public static class AdminEndpoints
{
    public sealed record AdminUploadJson(Guid Id, string UserId, DateTime CreatedAt, DateTime ExpiresAt, long Bytes);
    /// <summary>Only <c>action</c> is needed; the others belong to the actions that use them (so none is required in the schema).</summary>
    public sealed record CleanupRequest(
        [property: AllowedValues("list", "cleanup-old", "delete-session", "delete-all")] string? Action,
        double? OlderThanHours = null, Guid? UploadId = null, string? Confirm = null);

    public static RouteGroupBuilder MapAdmin(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/admin").RequireAuthorization(AuthSetup.AdminPolicy).WithTags("Admin").ProducesCommonProblems();
        group.MapGet("/uploads", ListUploads).WithName("AdminListUploads").WithSummary("Every staged upload").Produces<List<AdminUploadJson>>();
        group.MapPost("/uploads/cleanup", Cleanup).WithName("AdminCleanupUploads").WithSummary("Clean up staged uploads (list, cleanup-old, delete-session, delete-all)")
            .Produces<CleanupCounts>();
        group.MapGet("/jobs", async (SchedulerJobs jobs, CancellationToken ct) => Results.Ok(await jobs.ListAsync(ct))).WithName("AdminListJobs")
            .WithSummary("The scheduled jobs with their next run and last result").Produces<List<JobJson>>();
        group.MapPost("/jobs/{name}/trigger", (string name, SchedulerJobs jobs, CancellationToken ct) =>
            OnJob(name, async () => { await jobs.TriggerAsync(name, ct); return Results.Accepted($"/api/admin/jobs/{name}/runs"); })).WithName("AdminTriggerJob")
            .WithSummary("Run a job now, on one instance").Produces(202).ProducesProblem(404);
        group.MapPost("/jobs/{name}/pause", (string name, SchedulerJobs jobs, CancellationToken ct) =>
            OnJob(name, async () => { await jobs.PauseAsync(name, ct); return Results.NoContent(); })).WithName("AdminPauseJob")
            .WithSummary("Pause a job's schedule").Produces(204).ProducesProblem(404);
        group.MapPost("/jobs/{name}/resume", (string name, SchedulerJobs jobs, CancellationToken ct) =>
            OnJob(name, async () => { await jobs.ResumeAsync(name, ct); return Results.NoContent(); })).WithName("AdminResumeJob")
            .WithSummary("Resume a job's schedule").Produces(204).ProducesProblem(404);
        group.MapGet("/jobs/{name}/runs", (string name, int? limit, SchedulerJobs jobs, CancellationToken ct) =>
            OnJob(name, async () => Results.Ok(await jobs.RunsAsync(name, limit ?? JobRunRecorder.KeptRuns, ct)))).WithName("AdminJobRuns")
            .WithSummary("A job's run history, newest first").Produces<List<JobRunJson>>().ProducesProblem(404);
        return group;
    }

    private static async Task<IResult> OnJob(string name, Func<Task<IResult>> action) =>
        SchedulerJobs.Exists(name)
            ? await action()
            : Problems.NotFound($"There is no job named '{name}'. Jobs: {string.Join(", ", JobsSetup.Catalog.Keys)}.");

    private static async Task<IResult> ListUploads(UploadSessions uploads, CancellationToken ct) =>
        Results.Ok((await uploads.ListAllAsync(ct)).Select(r => new AdminUploadJson(r.Id, r.UserId,
            DateTime.SpecifyKind(r.CreatedAt, DateTimeKind.Utc), DateTime.SpecifyKind(r.ExpiresAt, DateTimeKind.Utc), r.Bytes)));

    private static async Task<IResult> Cleanup(CleanupRequest body, UploadCleanup cleanup, CancellationToken ct)
    {
        var (counts, error) = await cleanup.RunAsync(body.Action, body.OlderThanHours, body.UploadId, body.Confirm, ct);
        return error is not null ? Problems.Result(400, "Invalid cleanup request", error) : Results.Ok(counts);
    }
}

/// <summary>The admin clean-up actions on staged uploads, shared by the API and the dashboard.</summary>
public sealed class UploadCleanup(UploadSessions uploads)
{
    public const string DeleteAllConfirmation = "delete-all";
    /// <summary>Ten years: beyond it nothing is staged anyway, and TimeSpan would overflow near 2.5e9 hours.</summary>
    public const double MaxOlderThanHours = 24 * 365 * 10;

    public async Task<(CleanupCounts? Counts, string? Error)> RunAsync(string? action, double? olderThanHours, Guid? uploadId, string? confirm, CancellationToken ct)
    {
        switch (action)
        {
            case "list":
                return (new CleanupCounts((await uploads.ListAllAsync(ct)).Count, 0, 0), null);
            case "cleanup-old":
                var hours = olderThanHours ?? uploads.Ttl.TotalHours;
                if (!(hours is >= 0 and <= MaxOlderThanHours))
                    return (null, $"olderThanHours must be a number of hours from 0 to {MaxOlderThanHours:0} (ten years).");
                return (await uploads.DeleteAsync(await uploads.CreatedBeforeAsync(DateTime.UtcNow - TimeSpan.FromHours(hours), ct), ct), null);
            case "delete-session":
                if (uploadId is not { } id) return (null, "delete-session needs the uploadId of the session to delete.");
                var row = await uploads.FindAnyAsync(id, ct);
                return (row is null ? new CleanupCounts(0, 0, 0) : await uploads.DeleteAsync([row], ct), null);
            case "delete-all":
                if (confirm != DeleteAllConfirmation)
                    return (null, $"delete-all removes every staged upload of every user: send \"confirm\":\"{DeleteAllConfirmation}\" to do it.");
                return (await uploads.DeleteAsync(await uploads.ListAllAsync(ct), ct), null);
            default:
                return (null, "Unknown action: use \"list\", \"cleanup-old\" (olderThanHours), \"delete-session\" (uploadId) or \"delete-all\" (confirm).");
        }
    }
}

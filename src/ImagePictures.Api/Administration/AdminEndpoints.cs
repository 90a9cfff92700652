using System.ComponentModel.DataAnnotations;
using ImagePictures.Api.Auth;
using ImagePictures.Dashboard;
using ImagePictures.Api.Events;
using ImagePictures.Api.Jobs;
using ImagePictures.Api.Operations;
using ImagePictures.Api.Uploads;

// Folder and namespace "Administration", not "Admin": the tests name a caller "Admin" inside ImagePictures.Api.Tests, which a namespace would shadow.
namespace ImagePictures.Api.Administration;

/// <summary>The admin API (role admin; others 403, anonymous 401): staged uploads and the scheduled jobs.</summary>
public static class AdminEndpoints
{
    /// <summary>Only <c>action</c> is needed; the others belong to the actions that use them (so none is required in the schema).</summary>
    public sealed record CleanupRequest(
        [property: AllowedValues("list", "cleanup-old", "delete-session", "delete-all")] string? Action,
        double? OlderThanHours = null, Guid? UploadId = null, string? Confirm = null);

    /// <summary>The admin dashboard (Blazor, server-rendered) and the service behind it.</summary>
    public static void AddAdmin(this WebApplicationBuilder builder)
    {
        builder.Services.AddScoped<IAdminDashboardService, AdminDashboardService>();
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
    }

    /// <summary>Everything admins reach: this API, the webhook registry, the sign-in page, the dashboard and the jobs dashboard.</summary>
    public static void MapAdmin(this IEndpointRouteBuilder app)
    {
        MapAdminApi(app);
        app.MapWebhooks();
        app.MapAdminLogin();
        app.MapRazorComponents<AdminApp>().AddInteractiveServerRenderMode();
        app.MapJobsDashboard();
    }

    private static void MapAdminApi(IEndpointRouteBuilder app)
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

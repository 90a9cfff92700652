using ImagePictures.Api.Auth;
using ImagePictures.Api.Operations;

namespace ImagePictures.Api.Events;

/// <summary>The admin routes of the webhook endpoints (role admin): register, list with status, delete, re-enable.</summary>
public static class WebhookEndpoints
{
    public static RouteGroupBuilder MapWebhooks(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/admin/webhooks").RequireAuthorization(AuthSetup.AdminPolicy).WithTags("Admin").ProducesCommonProblems();
        group.MapPost("", Create).WithName("AdminCreateWebhook").WithSummary("Register a webhook endpoint; its secret is shown only in this answer")
            .Produces<CreatedWebhookJson>(StatusCodes.Status201Created).ProducesProblem(StatusCodes.Status400BadRequest)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("", List).WithName("AdminListWebhooks").WithSummary("Webhook endpoints with their delivery status").Produces<List<WebhookJson>>();
        group.MapDelete("/{id}", Delete).WithName("AdminDeleteWebhook").WithSummary("Remove a webhook endpoint")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("/{id}/enable", Enable).WithName("AdminEnableWebhook").WithSummary("Re-enable a disabled endpoint, resuming from its cursor")
            .Produces(StatusCodes.Status204NoContent).ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    private static async Task<IResult> Create(CreateWebhookRequest body, EventSinkStore store, EventsOptions options, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(body.Url))
            return Invalid("url is required: the http or https URL that receives the events.");
        if (!Uri.TryCreate(body.Url, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https") || string.IsNullOrEmpty(url.Host))
            return Invalid($"url must be an absolute http:// or https:// URL; '{Clip(body.Url)}' is not.");
        if (body.Events is { } events)
        {
            if (events.Length == 0)
                return Invalid("events must name at least one event type; leave it out to receive every event.");
            if (events.FirstOrDefault(e => !EventTypes.All.Contains(e, StringComparer.Ordinal)) is { } unknown)
                return Invalid($"events: '{Clip(unknown ?? "null")}' is not an event type. Known types: {string.Join(", ", EventTypes.All)}.");
        }
        if (await WebhookAddresses.CheckHostAsync(url, options.AllowPrivateNetworks, ct) is { } refused)
            return Invalid($"url: {refused}.");

        // The store announces every change of the sinks; the dispatcher of each instance listens.
        var row = await store.CreateWebhookAsync(url.AbsoluteUri, body.Events?.Distinct().ToArray(), WebhookSignature.NewSecret(), options.WebhookMaxEndpoints, ct);
        if (row is null)
            return Problems.Result(409, "Too many webhooks",
                $"There are already {options.WebhookMaxEndpoints} webhook endpoints, the most Events:Webhooks:MaxEndpoints allows. " +
                "Delete one (DELETE /api/admin/webhooks/{id}) or raise the setting.");
        return Results.Created($"/api/admin/webhooks/{row.Id}",
            new CreatedWebhookJson(row.Id, row.Url!, row.EventTypes, row.Secret!, Utc(row.CreatedAt)));
    }

    private static async Task<IResult> List(EventSinkStore store, CancellationToken ct) =>
        Results.Ok((await store.StatusAsync("webhook", ct)).Select(s => new WebhookJson(
            s.Id, s.Url!, s.EventTypes, Utc(s.CreatedAt), s.CursorSeq, s.PendingCount,
            s.FailingSince is { } f ? Utc(f) : null, s.LastError, s.Disabled)).ToList());

    private static async Task<IResult> Delete(string id, EventSinkStore store, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var guid) || !await store.DeleteWebhookAsync(guid.ToString(), ct)) return Unknown(id);
        return Results.NoContent();
    }

    private static async Task<IResult> Enable(string id, EventSinkStore store, CancellationToken ct)
    {
        if (!Guid.TryParse(id, out var guid) || !await store.EnableWebhookAsync(guid.ToString(), ct)) return Unknown(id);
        return Results.NoContent();
    }

    private static IResult Invalid(string detail) => Problems.Result(400, "Invalid webhook", detail);

    private static IResult Unknown(string id) =>
        Problems.NotFound($"There is no webhook endpoint with id '{Clip(id)}'; GET /api/admin/webhooks lists them.");

    private static string Clip(string s) => s.Length <= 100 ? s : s[..100] + "…";

    private static DateTime Utc(DateTime d) => DateTime.SpecifyKind(d, DateTimeKind.Utc);
}

using System.Net;
using System.Reflection;
using ImagePictures.Api.Jobs;
using ImagePictures.Dashboard;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace ImagePictures.Api.Operations;

/// <summary>
/// GET /: what a newcomer who opens the service in a browser sees. What the service is, its version,
/// where to go next, and the live state of the database, the storage and the broker. The same as a
/// JSON index of links for <c>Accept: application/json</c>. The HTML security headers come from
/// <see cref="SecurityHeaders"/>, as for every page.
/// </summary>
public static class LandingPage
{
    public sealed record Link(string Href, string Title);
    public sealed record DependencyState(string Status, string Detail);
    public sealed record LandingJson(string Name, string Version, string Description, Dictionary<string, Link> Links, Dictionary<string, DependencyState> Dependencies);

    private const string Description = "A self-hosted avatar service: users upload pictures and pick one as their avatar, which /avatars/{userId} serves to any <img> tag and which updates live wherever it is shown.";

    public static readonly string Version =
        typeof(LandingPage).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";

    public static void MapLandingPage(this WebApplication app)
    {
        var development = app.Environment.IsDevelopment();
        var docs = app.Services.GetRequiredService<IOptions<DocsOptions>>().Value.Enabled;
        app.MapGet("/", async (HttpContext http, HealthCheckService health, CancellationToken ct) =>
        {
            var body = new LandingJson("ImagePictures", Version, Description, Links(development, docs), await DependenciesAsync(http, health, ct));
            http.Response.Headers.CacheControl = "no-store"; // the states are live
            return PrefersJson(http.Request) ? Results.Json(body) : Results.Content(Html(body), "text/html; charset=utf-8");
        }).ExcludeFromDescription();
    }

    private static bool PrefersJson(HttpRequest request) =>
        request.GetTypedHeaders().Accept is { Count: > 0 } accept
        && accept.Any(a => a.MediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase))
        && !accept.Any(a => a.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase));

    private static Dictionary<string, Link> Links(bool development, bool docs)
    {
        var links = new Dictionary<string, Link>();
        if (docs) links["docs"] = new("/docs", "API reference (interactive)");
        links["openapi"] = new("/openapi/v1.json", "OpenAPI document");
        if (development) links["sample"] = new("/sample/", "Browser sample (Development only)");
        links["admin"] = new("/admin", "Admin dashboard (role admin)");
        links["hangfire"] = new(JobsSetup.DashboardPath, "Scheduled jobs (Hangfire, role admin)");
        links["health"] = new("/health/ready", "Readiness check");
        return links;
    }

    private static async Task<Dictionary<string, DependencyState>> DependenciesAsync(HttpContext http, HealthCheckService health, CancellationToken ct)
    {
        var report = await health.CheckHealthAsync(c => c.Name is "postgresql" or "storage", ct);
        DependencyState From(string check) => report.Entries.TryGetValue(check, out var entry) && entry.Status == HealthStatus.Healthy
            ? new("ok", "answers")
            : new("failing", report.Entries.TryGetValue(check, out var e) ? e.Description ?? "does not answer" : "not checked");
        return new()
        {
            ["database"] = From("postgresql"),
            ["storage"] = From("storage"),
            ["broker"] = await BrokerAsync(http.RequestServices, ct),
        };
    }

    /// <summary>RabbitMQ as its event sink sees it: not configured, delivering, or failing since when.</summary>
    private static async Task<DependencyState> BrokerAsync(IServiceProvider services, CancellationToken ct)
    {
        try
        {
            var sinks = await services.GetRequiredService<IEventSinkStatusSource>().GetEventSinksAsync(ct);
            return sinks.FirstOrDefault(s => s.Kind == "rabbitmq") switch
            {
                null => new("not configured", "Events:RabbitMq:Uri is not set"),
                { FailingSince: { } since } sink => new("failing", $"since {since:u}: {sink.LastError}"),
                { Disabled: true } => new("failing", "the sink is disabled"),
                var sink => new("ok", $"delivering (lag {sink.Lag})"),
            };
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return new("unknown", "its state is kept in the database, which does not answer");
        }
    }

    private static string Html(LandingJson page)
    {
        static string E(string s) => WebUtility.HtmlEncode(s);
        var links = string.Join("\n", page.Links.Values.Select(l => $"<li><a href=\"{E(l.Href)}\">{E(l.Title)}</a> <code>{E(l.Href)}</code></li>"));
        var states = string.Join("\n", page.Dependencies.Select(d =>
            $"<tr><th scope=\"row\">{E(d.Key)}</th><td class=\"{d.Value.Status switch { "ok" => "ok", "not configured" => "off", _ => "bad" }}\">{E(d.Value.Status)}</td><td>{E(d.Value.Detail)}</td></tr>"));
        return $$"""
            <!DOCTYPE html>
            <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>ImagePictures</title>
            <style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;line-height:1.5}
            code{font-size:.9em}table{border-collapse:collapse}th,td{text-align:left;padding:.2rem .8rem .2rem 0}
            .ok{color:#176f2c}.off{color:#555}.bad{color:#a4161a;font-weight:600}</style></head>
            <body><h1>ImagePictures <small>{{E(page.Version)}}</small></h1>
            <p>{{E(page.Description)}}</p>
            <h2>Where to go</h2>
            <ul>
            {{links}}
            </ul>
            <h2>Dependencies</h2>
            <table><tbody>
            {{states}}
            </tbody></table>
            <p>The same as JSON: send <code>Accept: application/json</code>.</p>
            </body></html>
            """;
    }
}

using ImagePictures.Api.Auth;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Storage;
using ImagePictures.Api.Uploads;
using ImagePictures.Imaging;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace ImagePictures.Api.Operations;

public static class ProblemResponses
{
    /// <summary>Every error as problem details, JSON numbers as numbers, and the request limits Kestrel enforces.</summary>
    public static void AddProblemResponses(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // Binding failures become exceptions so that ProblemExceptionHandler answers them with problem details.
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = Problems.Customize);
        services.AddExceptionHandler<ProblemExceptionHandler>();
        // Numbers are JSON numbers: the web defaults also read "12" as 12, which no client needs and
        // which turns every integer of the OpenAPI document into an integer-or-string union.
        services.ConfigureHttpJsonOptions(o => o.SerializerOptions.NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.Strict);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Limits.MaxRequestBodySize = 64 * 1024 * 1024;
            k.AddServerHeader = false; // no "Server: Kestrel"
        });
    }
}

/// <summary>
/// Turns the exceptions that carry a meaning (bad input, hostile image, busy, database or disk
/// trouble) into the contract's status codes. Anything else is logged and answered with a
/// generic 500 that reveals nothing of the server. Only a database that cannot be reached is 503.
/// </summary>
public sealed class ProblemExceptionHandler(ILogger<ProblemExceptionHandler> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken ct)
    {
        var (status, title, detail, retry) = Classify(exception);
        if (status >= 500) log.LogWarning(exception, "Request {Method} {Path} failed with {Status}", http.Request.Method, http.Request.Path, status);
        await Problems.Write(http, status, title, detail, retry);
        return true;
    }

    public static (int Status, string Title, string Detail, int? RetryAfter) Classify(Exception e) => e switch
    {
        AccessDeniedException d => (403, "Forbidden", d.Message, null),
        BadHttpRequestException { StatusCode: 413 } b => (413, "Upload too large", b.Message, null),
        BadHttpRequestException b => (b.StatusCode, b.StatusCode == 400 ? "Bad request" : Problems.TitleFor(b.StatusCode), Friendly(b), null),
        ImageRejectedException { Kind: RejectionKind.Unsupported } r => (415, "Unsupported image type", r.Message, null),
        ImageRejectedException r => (422, "Image cannot be used", r.Message, null),
        QuotaExceededException q => (409, "Picture quota reached", q.Message, null),
        StagedUploadLimitException s => (409, "Too many staged uploads", s.Message, null),
        ImagingBusyException => (503, "Busy", "The service is processing too many images right now. Retry shortly.", 5),
        StorageFullException => (507, "Storage full", "The picture storage is full; nothing was saved. Try again later.", null),
        StorageException s => (503, "Storage unavailable", s.Message, 10),
        PostgresException p => Classify(p),
        InvalidOperationException { InnerException: NpgsqlException n } => Classify(n),
        // Not from the server: the socket, a timeout or an exhausted pool are an outage; anything else is our fault.
        NpgsqlException { IsTransient: true } or TimeoutException => Unavailable,
        NpgsqlException => Internal,
        OperationCanceledException => (503, "Request cancelled", "The request was cancelled before it finished; nothing was changed.", 1),
        _ => Internal,
    };

    private static readonly (int, string, string, int?) Internal =
        (500, "Internal error", "Something unexpected went wrong; nothing was changed. If it persists, contact the operator.", null);

    private static readonly (int, string, string, int?) Unavailable =
        (503, "Database unavailable", "The database is not reachable right now; nothing was changed. Retry shortly.", 5);

    /// <summary>
    /// An error the server sent, by SQLSTATE: only the database being unreachable, overloaded or
    /// shutting down is 503 (a retry helps); a value or conflict the request caused is 400 or 409
    /// (a retry never helps); anything else is a fault of ours, 500. The server's message is never shown.
    /// </summary>
    private static (int, string, string, int?) Classify(PostgresException p) => p.SqlState switch
    {
        // 08 connection, 53 insufficient resources (53300 too many connections), 57P01-03/05 shutting down or
        // not accepting connections, 57014 statement timeout, 58 system I/O, 28 and 3D000 the login or database refused.
        var s when s.StartsWith("08") || s.StartsWith("53") || s.StartsWith("57P") || s == "57014" || s.StartsWith("58")
                   || s.StartsWith("28") || s == "3D000" => Unavailable,
        // Permission denied: the service's database role lacks a grant. Not the caller's fault and not ours to
        // fix in code: the service is unavailable for this until the operator grants it.
        "42501" => (503, "Database refused access",
            "The database refused this service access to the data the request needs; nothing was changed. The operator must grant the service's database role its privileges (docs/deployment.md).", 30),
        // Serialization failure, deadlock, lock timeout: transient, the same request succeeds when retried.
        "40001" or "40P01" or "55P03" => (503, "Busy", "The database was busy with a conflicting change; nothing was changed. Retry shortly.", 1),
        var s when s.StartsWith("22") => (400, "Invalid value", "A value in the request cannot be stored (out of range, or characters the database refuses). Correct it and send the request again.", null),
        "23505" or "23P01" or "23503" => (409, "Conflict", "The request conflicts with data stored meanwhile; nothing was changed. Reload and try again.", null),
        var s when s.StartsWith("23") => (400, "Invalid value", "A value in the request breaks a rule of the stored data; nothing was changed.", null),
        _ => Internal,
    };

    private static (int, string, string, int?) Classify(NpgsqlException n) => n switch
    {
        PostgresException p => Classify(p),
        { IsTransient: true } => Unavailable,
        _ => Internal,
    };

    private static string Friendly(BadHttpRequestException b) =>
        b.Message.StartsWith("Failed to read parameter", StringComparison.Ordinal) || b.Message.StartsWith("Implicit body", StringComparison.Ordinal)
            ? "The request body is missing or is not valid JSON of the expected shape."
            : b.Message;
}

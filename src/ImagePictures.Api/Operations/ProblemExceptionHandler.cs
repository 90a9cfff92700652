using ImagePictures.Api.Auth;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Storage;
using ImagePictures.Imaging;
using Microsoft.AspNetCore.Diagnostics;
using Npgsql;

namespace ImagePictures.Api;

/// <summary>
/// Turns the exceptions that carry a meaning (bad input, hostile image, busy, database or disk
/// trouble) into the contract's status codes. Anything else is logged and answered with a
/// generic 500 that reveals nothing of the server.
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
        BadHttpRequestException b => (b.StatusCode, "Bad request", Friendly(b), null),
        ImageRejectedException { Kind: RejectionKind.Unsupported } r => (415, "Unsupported image type", r.Message, null),
        ImageRejectedException r => (422, "Image cannot be used", r.Message, null),
        QuotaExceededException q => (409, "Picture quota reached", q.Message, null),
        ImagingBusyException => (503, "Busy", "The service is processing too many images right now. Retry shortly.", 5),
        StorageFullException => (507, "Storage full", "The picture storage is full; nothing was saved. Try again later.", null),
        StorageException s => (503, "Storage unavailable", s.Message, 10),
        NpgsqlException or TimeoutException or InvalidOperationException { InnerException: NpgsqlException } =>
            (503, "Database unavailable", "The database is not reachable right now; nothing was changed. Retry shortly.", 5),
        OperationCanceledException => (503, "Request cancelled", "The request was cancelled before it finished; nothing was changed.", 1),
        _ => (500, "Internal error", "Something unexpected went wrong; nothing was changed. If it persists, contact the operator.", null),
    };

    private static string Friendly(BadHttpRequestException b) =>
        b.Message.StartsWith("Failed to read parameter", StringComparison.Ordinal) || b.Message.StartsWith("Implicit body", StringComparison.Ordinal)
            ? "The request body is missing or is not valid JSON of the expected shape."
            : b.Message;
}

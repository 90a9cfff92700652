using Microsoft.AspNetCore.Mvc;

namespace ImagePictures.Api.Operations;

/// <summary>Every error leaves as RFC 9457 problem details with a detail a person can act on.</summary>
public static class Problems
{
    public static IResult Result(int status, string title, string detail, int? retryAfterSeconds = null) =>
        new ProblemResult(new ProblemDetails { Status = status, Title = title, Detail = detail }, retryAfterSeconds);

    public static IResult NotFound(string detail) => Result(404, "Not found", detail);

    public static string TitleFor(int status) => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status) is { Length: > 0 } phrase
        ? char.ToUpperInvariant(phrase[0]) + phrase[1..].ToLowerInvariant()
        : "Error";

    /// <summary>
    /// The framework's own problem details (status code pages for an unknown route, 405, 415 …) in
    /// our shape: status, title and a detail; no "type" link and no "traceId".
    /// </summary>
    public static void Customize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        var http = context.HttpContext;
        problem.Type = null;
        problem.Instance = null;
        problem.Extensions.Remove("traceId");
        problem.Status ??= http.Response.StatusCode;
        var reason = Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(problem.Status.Value);
        if (problem.Title is null || problem.Title == reason) problem.Title = TitleFor(problem.Status.Value);
        problem.Detail ??= problem.Status switch
        {
            404 => "There is nothing at this address. The API's routes are listed in /openapi/v1.json.",
            405 => $"This address does not accept {http.Request.Method}; the Allow header lists the methods it does.",
            415 => "The body's Content-Type is not accepted here: send JSON as application/json, pictures as multipart/form-data.",
            _ => "The request could not be handled as sent.",
        };
    }

    public static Task Write(HttpContext http, int status, string title, string detail, int? retryAfterSeconds = null) =>
        Result(status, title, detail, retryAfterSeconds).ExecuteAsync(http);

    private sealed class ProblemResult(ProblemDetails problem, int? retryAfter) : IResult, IStatusCodeHttpResult
    {
        public int? StatusCode => problem.Status;

        public async Task ExecuteAsync(HttpContext http)
        {
            if (http.Response.HasStarted) return;
            http.Response.StatusCode = problem.Status ?? 500;
            if (retryAfter is { } seconds) http.Response.Headers.RetryAfter = seconds.ToString();
            http.Response.ContentType = "application/problem+json";
            await http.Response.WriteAsJsonAsync(problem, ProblemJson.Options, "application/problem+json");
        }
    }

    private static class ProblemJson
    {
        public static readonly System.Text.Json.JsonSerializerOptions Options = new(System.Text.Json.JsonSerializerDefaults.Web)
        {
            DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull,
        };
    }
}

using Microsoft.AspNetCore.Mvc;

namespace ImagePictures.Api;

/// <summary>Every error leaves as RFC 9457 problem details with a detail a person can act on.</summary>
public static class Problems
{
    public static IResult Result(int status, string title, string detail, int? retryAfterSeconds = null) =>
        new ProblemResult(new ProblemDetails { Status = status, Title = title, Detail = detail }, retryAfterSeconds);

    public static IResult NotFound(string detail) => Result(404, "Not found", detail);

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

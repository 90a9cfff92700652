namespace ImagePictures.Api.Operations;

/// <summary>
/// Request logging without tokens: one line per request with the path only, never the query string
/// (the hub's access_token rides there) and never headers.
/// </summary>
public static class RequestLogging
{
    public static void UseRedactedRequestLogging(this WebApplication app)
    {
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("ImagePictures.Requests");
        app.Use((http, next) =>
        {
            if (!log.IsEnabled(LogLevel.Information)) return next(http);
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            // Once the response is complete, so that the status is the one sent, also when the
            // exception handler (outside this middleware) turned a failure into a 503.
            http.Response.OnCompleted(() =>
            {
                log.LogInformation("{Method} {Path} {Status} in {Elapsed:0.0} ms", http.Request.Method, http.Request.Path.Value,
                    http.Response.StatusCode, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalMilliseconds);
                return Task.CompletedTask;
            });
            return next(http);
        });
    }
}

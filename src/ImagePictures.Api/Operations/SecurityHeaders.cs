namespace ImagePictures.Api.Operations;

/// <summary>
/// Headers for every HTML page, whoever renders it (the sign-in form, the Blazor dashboard, the
/// sample, and any dashboard or docs page added later): decided when the response starts, from its
/// Content-Type, so no page can forget them. The policy forbids framing by other sites, plugins and
/// foreign form targets, and leaves scripts and styles alone: the pages use inline ones.
/// </summary>
public static class SecurityHeaders
{
    public const string ContentSecurityPolicy = "frame-ancestors 'self'; base-uri 'self'; object-src 'none'; form-action 'self'";

    public static void UseHtmlSecurityHeaders(this WebApplication app) => app.Use((http, next) =>
    {
        http.Response.OnStarting(static state =>
        {
            var response = (HttpResponse)state;
            response.Headers.XContentTypeOptions = "nosniff";
            if (response.ContentType?.StartsWith("text/html", StringComparison.OrdinalIgnoreCase) == true)
            {
                response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
                response.Headers.XFrameOptions = "SAMEORIGIN";
                response.Headers["Referrer-Policy"] = "no-referrer";
            }
            return Task.CompletedTask;
        }, http.Response);
        return next(http);
    });
}

using System.Security.Cryptography;

namespace ImagePictures.Api.LiveAvatar;

/// <summary>
/// GET /client/live-avatar.js: the &lt;live-avatar&gt; element with the SignalR browser client inside,
/// built from npm at build time (LiveAvatar/build.mjs) and embedded, so every environment serves it.
/// </summary>
public static class LiveAvatarEndpoints
{
    public const string ScriptPath = "/client/live-avatar.js";

    private static readonly Lazy<(byte[] Body, string ETag)> Script = new(() =>
    {
        using var stream = typeof(LiveAvatarEndpoints).Assembly.GetManifestResourceStream("live-avatar.js")
            ?? throw new InvalidOperationException("live-avatar.js is not embedded: the build's BuildLiveAvatarScript step did not run.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        var body = copy.ToArray();
        return (body, $"\"{Convert.ToHexStringLower(SHA256.HashData(body))[..32]}\"");
    });

    public static void MapLiveAvatarScript(this IEndpointRouteBuilder app) =>
        app.MapGet(ScriptPath, Serve).ExcludeFromDescription();

    private static IResult Serve(HttpContext http)
    {
        var (body, etag) = Script.Value;
        var headers = http.Response.Headers;
        // A page of any origin may load it (also with crossorigin="anonymous"); it holds nothing private.
        headers.AccessControlAllowOrigin = "*";
        headers.CacheControl = "public, max-age=300";
        headers.ETag = etag;
        headers.XContentTypeOptions = "nosniff";
        if (http.Request.Headers.IfNoneMatch.ToString() == etag) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(body, "text/javascript; charset=utf-8");
    }
}

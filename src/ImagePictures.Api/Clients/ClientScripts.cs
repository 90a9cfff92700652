using System.Security.Cryptography;

namespace ImagePictures.Api.Clients;

/// <summary>
/// The browser clients, built from npm at build time and embedded, so every environment serves them:
/// GET /client/live-avatar.js (LiveAvatar/build.mjs: a classic script with the SignalR client inside) and
/// GET /client/avatar-editor.js (AvatarEditor/build.mjs: an ES module with Cropper.js and SignalR inside).
/// </summary>
public static class ClientScripts
{
    public const string LiveAvatarPath = "/client/live-avatar.js";
    public const string AvatarEditorPath = "/client/avatar-editor.js";

    public static void MapClientScripts(this IEndpointRouteBuilder app)
    {
        app.MapGet(LiveAvatarPath, Serve(Embedded("live-avatar.js", "BuildLiveAvatarScript"))).ExcludeFromDescription();
        app.MapGet(AvatarEditorPath, Serve(Embedded("avatar-editor.js", "BuildAvatarEditorScript"))).ExcludeFromDescription();
    }

    private static Lazy<(byte[] Body, string ETag)> Embedded(string name, string buildStep) => new(() =>
    {
        using var stream = typeof(ClientScripts).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"{name} is not embedded: the build's {buildStep} step did not run.");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        var body = copy.ToArray();
        return (body, $"\"{Convert.ToHexStringLower(SHA256.HashData(body))[..32]}\"");
    });

    private static Func<HttpContext, IResult> Serve(Lazy<(byte[] Body, string ETag)> script) => http =>
    {
        var (body, etag) = script.Value;
        var headers = http.Response.Headers;
        // A page of any origin may load them (a module script from another origin needs this); they hold nothing private.
        headers.AccessControlAllowOrigin = "*";
        headers.CacheControl = "public, max-age=300";
        headers.ETag = etag;
        headers.XContentTypeOptions = "nosniff";
        if (http.Request.Headers.IfNoneMatch.ToString() == etag) return Results.StatusCode(StatusCodes.Status304NotModified);
        return Results.Bytes(body, "text/javascript; charset=utf-8");
    };
}

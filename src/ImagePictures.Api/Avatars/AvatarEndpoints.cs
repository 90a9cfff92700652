using ImagePictures.Api.Auth;
using ImagePictures.Api.Operations;
using System.Buffers;
using Microsoft.Extensions.Primitives;
using Microsoft.Extensions.Options;
using ImagePictures.Api.Hosting;

namespace ImagePictures.Api.Avatars;

/// <summary>
/// The public image routes: no token, cacheable, WebP when the browser takes it. They are the hot
/// paths of the service, so they are short-circuited: they run straight from routing, before static
/// files, request logging, authentication, authorization, the upload rate limiter and antiforgery,
/// none of which they need. That also skips the exception handler, so they answer their own errors
/// as problem details (<see cref="FailAsync"/>).
/// </summary>
public static class AvatarEndpoints
{
    private static readonly string[] GetAndHead = [HttpMethods.Get, HttpMethods.Head];
    private static readonly StringValues AvatarCacheControl = "public, max-age=60";
    private static readonly StringValues VariantCacheControl = "public, max-age=31536000, immutable";
    private static readonly ImageHeaders AvatarHeaders = new(AvatarCacheControl, VaryAccept: true);
    private static readonly ImageHeaders VariantHeaders = new(VariantCacheControl, VaryAccept: true);
    private static readonly StringValues Accept = "Accept";
    private static readonly StringValues NoSniff = "nosniff";
    private static readonly StringValues AnyOrigin = "*";

    /// <summary>What an image answer (200 or 304) carries besides its ETag: its caching, whether it varies with Accept, whether any origin may read it.</summary>
    internal sealed record ImageHeaders(StringValues CacheControl, bool VaryAccept, bool AnyOrigin = false);

    /// <summary>What an avatar request came to (the labels of imagepictures.avatar.requests).</summary>
    public enum AvatarOutcome { Picture, Default, NotModified, NotFound }

    private sealed record Services(
        ActiveAvatarCache Avatars, LivePictureCache Pictures, VariantCache Variants, DefaultAvatar Defaults, VariantTable Table,
        AvatarImages Images, AvatarOptions Settings, PicturesMetrics Metrics, ILogger Log);

    public static void AddAvatars(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<AvatarOptions>(AvatarOptions.Section);
        services.AddSingleton<AvatarImages>();
        services.AddSingleton<VariantTable>();
        services.AddSingleton<ActiveAvatarCache>();
        services.AddSingleton<LivePictureCache>();
        services.AddSingleton<VariantCache>();
        services.AddSingleton<DefaultAvatar>();
        services.AddHostedService<ActiveAvatarIndexLoader>();
    }

    public static void MapAvatars(this IEndpointRouteBuilder app)
    {
        var sp = app.ServiceProvider;
        var s = new Services(sp.GetRequiredService<ActiveAvatarCache>(), sp.GetRequiredService<LivePictureCache>(), sp.GetRequiredService<VariantCache>(),
            sp.GetRequiredService<DefaultAvatar>(), sp.GetRequiredService<VariantTable>(), sp.GetRequiredService<AvatarImages>(),
            sp.GetRequiredService<IOptions<AvatarOptions>>().Value, sp.GetRequiredService<PicturesMetrics>(), sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(AvatarEndpoints)));
        // Each handler names a route value, so that it is a route handler that the OpenAPI document
        // describes rather than a bare RequestDelegate (which it skips); the handlers read the values themselves.
        app.MapMethods("/avatars/{userId}", GetAndHead, (HttpContext http, string userId) => GetAvatar(http, s)).ShortCircuit().DescribeImage("GetAvatar",
                "A user's avatar", "The active picture at the smallest configured size at least ?size (default 128); without one, the default of ?default, else of Avatars:DefaultStyle.", "public, max-age=60")
            .WithQueryParameter("size", Microsoft.OpenApi.JsonSchemaType.Integer, "Wanted size in pixels; the smallest configured size at least this is served (default 128).")
            .WithQueryParameter("default", Microsoft.OpenApi.JsonSchemaType.String, "What to serve when the user has no active picture: image (the copied default picture), mp, identicon, retro, initials, color, blank or 404; missing: Avatars:DefaultStyle.");
        app.MapMethods("/pictures/{pictureId}/{size}", GetAndHead, (HttpContext http, string pictureId) => GetVariant(http, s)).ShortCircuit().DescribeImage("GetPictureVariant",
            "One size of a live picture", "One variant of a live picture; size must be a configured size (else 400). Trashed or purged: 404.", "public, max-age=31536000, immutable");
    }

    /// <summary>The OpenAPI description of an image route: images, ETag and 304, problem details.</summary>
    private static IEndpointConventionBuilder DescribeImage(this IEndpointConventionBuilder route, string name, string summary, string description, string cacheControl) =>
        route.WithName(name).WithTags("Images").WithSummary(summary).WithDescription(description + $" No token needed. Cache-Control: {cacheControl}; Vary: Accept.")
            .WithMetadata(new ProducesResponseTypeMetadata(200, typeof(Stream), ["image/webp", "image/jpeg", "image/png"]), new ProducesResponseTypeMetadata(304),
                Problem(400), Problem(404), Problem(503))
            .WithResponseHeader(200, "ETag", "A strong validator: send it back as If-None-Match to get 304.")
            .WithResponseHeader(200, "Cache-Control", cacheControl).WithResponseHeader(304, "ETag", "The validator that matched.")
            .WithHeaderParameter("If-None-Match", "An ETag from an earlier answer: 304 while it still matches.");

    private static ProducesResponseTypeMetadata Problem(int status) => new(status, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), ["application/problem+json"]);

    private static async Task GetAvatar(HttpContext http, Services s)
    {
        try
        {
            var userId = http.Request.RouteValues["userId"] as string;
            if (!UserIds.IsValid(userId))
            {
                await Problems.Write(http, 400, "Invalid user id", "A user id is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.");
                return;
            }
            var query = AvatarQuery.Parse(http.Request.QueryString.Value);
            if (query.Error is var (title, detail))
            {
                await Problems.Write(http, 400, title, detail);
                return;
            }

            var outcome = AvatarOutcome.NotFound;
            if (await s.Avatars.GetAsync(userId!, http.RequestAborted) is { } avatar)
            {
                var slot = s.Table.SlotFor(query.Size, ImageRequestHeaders.PrefersWebP(http.Request.Headers.Accept, avatar.HasAlpha));
                var etag = avatar.ETag(slot, s.Table);
                if (IsNotModified(http, etag, AvatarHeaders)) outcome = AvatarOutcome.NotModified;
                else if (await s.Variants.GetAsync(avatar, slot, etag, s.Table, http.RequestAborted) is { } bytes)
                {
                    WriteImage(http, bytes, VariantTable.ContentType(slot, avatar.HasAlpha), etag, AvatarHeaders);
                    outcome = AvatarOutcome.Picture;
                }
                // else: its files are gone (the account is being deleted): answer as for a user without a picture.
            }

            var choice = query.Default ?? (s.Settings.Style is { } configured ? new AvatarDefault(configured, false) : AvatarDefault.Image);
            if (outcome == AvatarOutcome.NotFound && choice.Style is { } style)
            {
                // Generated at the configured size the route picks, seeded by the user id.
                var webp = style != ImagePictures.Imaging.AvatarStyle.Blank && ImageRequestHeaders.PrefersWebP(http.Request.Headers.Accept, fallbackIsPng: true);
                var size = s.Table.Size(s.Table.SlotFor(query.Size, webp));
                var made = s.Images.Generated(style, AvatarImages.SeedOfUser(userId!), size,
                    webp ? ImagePictures.Imaging.AvatarFormat.WebP : ImagePictures.Imaging.AvatarFormat.Png,
                    style == ImagePictures.Imaging.AvatarStyle.Initials ? ImagePictures.Imaging.GeneratedAvatars.InitialsOf(userId) : null);
                if (IsNotModified(http, made.ETag, AvatarHeaders)) outcome = AvatarOutcome.NotModified;
                else
                {
                    WriteImage(http, made.Bytes, made.ContentType, made.ETag, AvatarHeaders);
                    outcome = AvatarOutcome.Default;
                }
            }
            if (outcome == AvatarOutcome.NotFound && !choice.NotFound)
            {
                var defaults = await s.Defaults.GetAsync();
                var variant = defaults.Variants[s.Table.SlotFor(query.Size, ImageRequestHeaders.PrefersWebP(http.Request.Headers.Accept, defaults.Picture.HasAlpha))];
                if (IsNotModified(http, variant.ETag, AvatarHeaders)) outcome = AvatarOutcome.NotModified;
                else
                {
                    WriteImage(http, variant.Bytes, variant.ContentType, variant.ETag, AvatarHeaders);
                    outcome = AvatarOutcome.Default;
                }
            }
            if (outcome == AvatarOutcome.NotFound) await Problems.Write(http, 404, "Not found", "This user has no active picture.");
            Counted(s.Metrics, outcome);
        }
        catch (Exception e)
        {
            await FailAsync(http, e, s.Log);
        }
    }

    /// <summary>The one place where an avatar request's outcome is known (imagepictures.avatar.requests counts here).</summary>
    internal static void Counted(PicturesMetrics metrics, AvatarOutcome outcome) => metrics.AvatarRequest(outcome switch
    {
        AvatarOutcome.Picture => "picture",
        AvatarOutcome.Default => "default",
        AvatarOutcome.NotModified => "not_modified",
        _ => "not_found",
    });

    private static async Task GetVariant(HttpContext http, Services s)
    {
        try
        {
            if (!Guid.TryParse(http.Request.RouteValues["pictureId"] as string, out var pictureId))
            {
                await Problems.Write(http, 400, "Invalid picture id", "A picture id is a UUID.");
                return;
            }
            var sizeIndex = int.TryParse(http.Request.RouteValues["size"] as string, out var px) ? s.Table.IndexOfSize(px) : -1;
            if (sizeIndex < 0)
            {
                await Problems.Write(http, 400, "Invalid size", $"size must be one of {s.Table.SizesText}.");
                return;
            }
            if (await s.Pictures.GetAsync(pictureId, http.RequestAborted) is { } picture)
            {
                var slot = VariantTable.Slot(sizeIndex, ImageRequestHeaders.PrefersWebP(http.Request.Headers.Accept, picture.HasAlpha));
                var etag = picture.ETag(slot, s.Table);
                if (IsNotModified(http, etag, VariantHeaders)) return;
                if (await s.Variants.GetAsync(picture, slot, etag, s.Table, http.RequestAborted) is { } bytes)
                {
                    WriteImage(http, bytes, VariantTable.ContentType(slot, picture.HasAlpha), etag, VariantHeaders);
                    return;
                }
            }
            await Problems.Write(http, 404, "Not found", "There is no live picture with that id.");
        }
        catch (Exception e)
        {
            await FailAsync(http, e, s.Log);
        }
    }

    /// <summary>304 with the image's headers when If-None-Match holds <paramref name="etag"/>; else false and nothing written.</summary>
    internal static bool IsNotModified(HttpContext http, string etag, ImageHeaders headers)
    {
        if (!ImageRequestHeaders.Matches(http.Request.Headers.IfNoneMatch, etag)) return false;
        http.Response.StatusCode = StatusCodes.Status304NotModified;
        SetHeaders(http.Response.Headers, etag, headers);
        return true;
    }

    /// <summary>
    /// 200 with the image; HEAD gets the same headers and no body. The bytes are copied into Kestrel's
    /// output buffer and go out with the headers in one write when the request ends (no flush of our own).
    /// </summary>
    internal static void WriteImage(HttpContext http, byte[] bytes, string contentType, string etag, ImageHeaders headers)
    {
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = contentType;
        response.ContentLength = bytes.Length;
        SetHeaders(response.Headers, etag, headers);
        if (!HttpMethods.IsHead(http.Request.Method)) response.BodyWriter.Write(bytes);
    }

    private static void SetHeaders(IHeaderDictionary h, string etag, ImageHeaders headers)
    {
        h.ETag = etag;
        h.CacheControl = headers.CacheControl;
        if (headers.VaryAccept) h.Vary = Accept;
        if (headers.AnyOrigin) h.AccessControlAllowOrigin = AnyOrigin;
        h.XContentTypeOptions = NoSniff;
    }

    /// <summary>What the exception handler would answer (these routes skip it), unless the client has gone.</summary>
    internal static async Task FailAsync(HttpContext http, Exception e, ILogger log)
    {
        if (http.RequestAborted.IsCancellationRequested || http.Response.HasStarted) return;
        var (status, title, detail, retry) = ProblemExceptionHandler.Classify(e);
        if (status >= 500) log.LogWarning(e, "Request {Method} {Path} failed with {Status}", http.Request.Method, http.Request.Path.Value, status);
        http.Response.Clear();
        await Problems.Write(http, status, title, detail, retry);
    }
}

/// <summary>
/// The avatar route's query: <c>size</c> (a positive number of pixels) and <c>default</c>
/// (<c>image|mp|identicon|retro|initials|color|blank|404</c>; missing: Avatars:DefaultStyle); other keys are ignored.
/// </summary>
public readonly record struct AvatarQuery(int? Size, AvatarDefault? Default, (string Title, string Detail)? Error)
{
    private static readonly AvatarQuery BadSize = new(null, null, ("Invalid size", "size must be a positive number of pixels."));
    private static readonly AvatarQuery BadDefault = new(null, null, ("Invalid default", "default must be one of image, mp, identicon, retro, initials, color, blank or 404."));

    public static AvatarQuery Parse(string? queryString)
    {
        int? size = null;
        AvatarDefault? choice = null;
        var rest = queryString.AsSpan();
        if (rest.StartsWith("?")) rest = rest[1..];
        while (!rest.IsEmpty)
        {
            var amp = rest.IndexOf('&');
            var pair = amp < 0 ? rest : rest[..amp];
            rest = amp < 0 ? default : rest[(amp + 1)..];
            var eq = pair.IndexOf('=');
            var key = eq < 0 ? pair : pair[..eq];
            var raw = eq < 0 ? default : pair[(eq + 1)..];
            var value = raw.ContainsAny('%', '+') ? Uri.UnescapeDataString(raw.ToString().Replace('+', ' ')).AsSpan() : raw;
            if (key.Equals("size", StringComparison.OrdinalIgnoreCase))
            {
                if (value.IsEmpty) continue;
                if (size is not null || !int.TryParse(value, System.Globalization.NumberStyles.None, null, out var px) || px <= 0) return BadSize;
                size = px;
            }
            else if (key.Equals("default", StringComparison.OrdinalIgnoreCase))
            {
                if (value.IsEmpty) continue;
                if (choice is not null || AvatarDefault.Parse(value) is not { } parsed) return BadDefault;
                choice = parsed;
            }
        }
        return new AvatarQuery(size, choice, null);
    }
}

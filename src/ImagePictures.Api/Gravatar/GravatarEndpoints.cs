using System.Buffers;
using ImagePictures.Api.Avatars;
using ImagePictures.Api.Operations;
using ImagePictures.Imaging;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Microsoft.AspNetCore.Http.Metadata;

namespace ImagePictures.Api.Gravatar;

/// <summary>
/// GET/HEAD /avatar/{hash}[.jpg|.jpeg|.png|.webp]: the Gravatar/Libravatar protocol, so that forges and
/// libraries written for gravatar.com show this service's avatars by changing one base URL. Like
/// /avatars it is short-circuited (see <see cref="AvatarEndpoints"/>) and makes no database query per
/// request: hash → user from <see cref="EmailHashIndex"/>, user → picture from <see cref="ActiveAvatarCache"/>,
/// bytes from <see cref="AvatarImages"/>.
/// </summary>
public static class GravatarEndpoints
{
    private static readonly string[] GetAndHead = [HttpMethods.Get, HttpMethods.Head];
    private static readonly StringValues CacheControl = "public, max-age=300";
    private static readonly StringValues AnyOrigin = "*";
    // Any page may read these images (a forge's avatars on another origin); a format forced by the URL does not vary with Accept.
    private static readonly AvatarEndpoints.ImageHeaders Negotiated = new(CacheControl, VaryAccept: true, AnyOrigin: true);
    private static readonly AvatarEndpoints.ImageHeaders Forced = new(CacheControl, VaryAccept: false, AnyOrigin: true);

    private sealed record Services(EmailHashIndex Emails, ActiveAvatarCache Avatars, AvatarImages Images, AvatarOptions Settings, PicturesMetrics Metrics, ILogger Log);

    public static void AddGravatar(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<EmailHashIndex>();
        builder.Services.AddSingleton<EmailAddresses>();
    }

    public static void MapGravatar(this IEndpointRouteBuilder app)
    {
        var sp = app.ServiceProvider;
        var s = new Services(sp.GetRequiredService<EmailHashIndex>(), sp.GetRequiredService<ActiveAvatarCache>(), sp.GetRequiredService<AvatarImages>(),
            sp.GetRequiredService<IOptions<AvatarOptions>>().Value, sp.GetRequiredService<PicturesMetrics>(),
            sp.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(GravatarEndpoints)));
        // A Delegate, not a RequestDelegate, so that the route appears in the OpenAPI document.
        app.MapMethods("/avatar/{hash}", GetAndHead, (Delegate)((HttpContext http) => GetAvatar(http, s))).ShortCircuit()
            .WithName("GetAvatarByEmailHash").WithTags("Avatars")
            .WithSummary("Gravatar/Libravatar-compatible avatar by e-mail hash (MD5 or SHA-256); no token")
            .WithMetadata(
                new ProducesResponseTypeMetadata(StatusCodes.Status200OK, typeof(byte[]), ["image/jpeg", "image/png", "image/webp"]),
                new ProducesResponseTypeMetadata(StatusCodes.Status302Found),
                new ProducesResponseTypeMetadata(StatusCodes.Status304NotModified),
                new ProducesResponseTypeMetadata(StatusCodes.Status400BadRequest, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), ["application/problem+json"]),
                new ProducesResponseTypeMetadata(StatusCodes.Status404NotFound, typeof(Microsoft.AspNetCore.Mvc.ProblemDetails), ["application/problem+json"]))
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                operation.Parameters = GravatarQuery.OpenApiParameters();
                return Task.CompletedTask;
            });
        app.MapEmails();
    }

    private static async Task GetAvatar(HttpContext http, Services s)
    {
        try
        {
            var raw = http.Request.RouteValues["hash"] as string ?? "";
            AvatarFormat? forced = null;
            var dot = raw.LastIndexOf('.');
            if (dot >= 0)
            {
                forced = raw[(dot + 1)..].ToLowerInvariant() switch
                {
                    "jpg" or "jpeg" => AvatarFormat.Jpeg,
                    "png" => AvatarFormat.Png,
                    "webp" => AvatarFormat.WebP,
                    _ => null,
                };
                if (forced is null)
                {
                    await Problems.Write(http, 400, "Invalid extension", "The extension may be .jpg, .jpeg, .png or .webp, or left out (the format then follows Accept).");
                    return;
                }
                raw = raw[..dot];
            }
            if (EmailAddresses.NormalizeHash(raw) is not { } hash)
            {
                await Problems.Write(http, 400, "Invalid hash", "The hash is the MD5 (32 hex digits) or SHA-256 (64 hex digits) of the trimmed, lower-cased e-mail address.");
                return;
            }
            var q = GravatarQuery.Parse(http.Request.QueryString.Value);

            if (!q.ForceDefault && await s.Emails.FindAsync(hash, http.RequestAborted) is { } userId
                && await s.Avatars.GetAsync(userId, http.RequestAborted) is { } picture)
            {
                var format = forced ?? Negotiate(http, picture.HasAlpha);
                var etag = AvatarImages.SizedETag(picture, q.Size, format);
                if (AvatarEndpoints.IsNotModified(http, etag, forced is null ? Negotiated : Forced)) { AvatarEndpoints.Counted(s.Metrics, AvatarEndpoints.AvatarOutcome.NotModified); return; }
                if (await s.Images.PictureAsync(picture, q.Size, format, etag, http.RequestAborted) is { } bytes)
                {
                    AvatarEndpoints.WriteImage(http, bytes, GeneratedAvatars.ContentType(format), etag, forced is null ? Negotiated : Forced);
                    AvatarEndpoints.Counted(s.Metrics, AvatarEndpoints.AvatarOutcome.Picture);
                    return;
                }
                // else: its files are gone (the account is being deleted): answer the default.
            }
            await WriteDefault(http, s, q, hash, forced);
        }
        catch (Exception e)
        {
            await AvatarEndpoints.FailAsync(http, e, s.Log);
        }
    }

    private static async Task WriteDefault(HttpContext http, Services s, GravatarQuery q, string hash, AvatarFormat? forced)
    {
        var choice = q.Default;
        if (q.RedirectTo is { } url)
        {
            if (Array.Exists(s.Settings.AllowedDefaultRedirectHosts, h => string.Equals(h, url.Host, StringComparison.OrdinalIgnoreCase)))
            {
                http.Response.StatusCode = StatusCodes.Status302Found;
                http.Response.Headers.Location = url.AbsoluteUri;
                http.Response.Headers.AccessControlAllowOrigin = AnyOrigin;
                http.Response.Headers.CacheControl = CacheControl;
                AvatarEndpoints.Counted(s.Metrics, AvatarEndpoints.AvatarOutcome.Default);
                return;
            }
            choice = null; // a host not allowed: as if d were missing (no open redirect)
        }
        var chosen = choice ?? (s.Settings.Style is { } style ? new AvatarDefault(style, false) : AvatarDefault.Image);
        if (chosen.NotFound)
        {
            await Problems.Write(http, 404, "Not found", "No picture is registered for this hash (d=404 asks for no default).");
            AvatarEndpoints.Counted(s.Metrics, AvatarEndpoints.AvatarOutcome.NotFound);
            return;
        }
        AvatarImages.Made made;
        var negotiated = forced is null && chosen.Style != AvatarStyle.Blank;
        if (chosen.Style is { } generated)
        {
            var format = forced ?? (ImageRequestHeaders.PrefersWebP(http.Request.Headers.Accept, fallbackIsPng: true) ? AvatarFormat.WebP : AvatarFormat.Png);
            var initials = generated == AvatarStyle.Initials ? q.Initials ?? hash[..2].ToUpperInvariant() : null;
            made = s.Images.Generated(generated, hash, q.Size, format, initials);
        }
        else
        {
            made = await s.Images.DefaultPictureAsync(q.Size, forced ?? Negotiate(http, await s.Images.DefaultHasAlphaAsync()));
        }
        if (AvatarEndpoints.IsNotModified(http, made.ETag, negotiated ? Negotiated : Forced)) { AvatarEndpoints.Counted(s.Metrics, AvatarEndpoints.AvatarOutcome.NotModified); return; }
        AvatarEndpoints.WriteImage(http, made.Bytes, made.ContentType, made.ETag, negotiated ? Negotiated : Forced);
        AvatarEndpoints.Counted(s.Metrics, AvatarEndpoints.AvatarOutcome.Default);
    }

    private static AvatarFormat Negotiate(HttpContext http, bool hasAlpha) =>
        ImageRequestHeaders.PrefersWebP(http.Request.Headers.Accept, hasAlpha) ? AvatarFormat.WebP : hasAlpha ? AvatarFormat.Png : AvatarFormat.Jpeg;
}

/// <summary>
/// /avatar/{hash}'s query, read as Gravatar reads it: s/size (1-512; above: 512; missing, not a number
/// or below 1: 80), d/default, f/forcedefault, name/initials; r/rating and unknown keys are ignored, and
/// a repeated key counts once (the first).
/// </summary>
public readonly record struct GravatarQuery(int Size, AvatarDefault? Default, Uri? RedirectTo, bool ForceDefault, string? Initials)
{
    public const int DefaultSize = 80;

    /// <summary>The route's parameters as the OpenAPI document lists them.</summary>
    public static List<Microsoft.OpenApi.IOpenApiParameter> OpenApiParameters()
    {
        static Microsoft.OpenApi.OpenApiParameter Query(string name, Microsoft.OpenApi.JsonSchemaType type, string description) => new()
        {
            Name = name, In = Microsoft.OpenApi.ParameterLocation.Query, Description = description,
            Schema = new Microsoft.OpenApi.OpenApiSchema { Type = type },
        };
        const Microsoft.OpenApi.JsonSchemaType text = Microsoft.OpenApi.JsonSchemaType.String, number = Microsoft.OpenApi.JsonSchemaType.Integer;
        return
        [
            new Microsoft.OpenApi.OpenApiParameter
            {
                Name = "hash", In = Microsoft.OpenApi.ParameterLocation.Path, Required = true,
                Description = "MD5 (32 hex) or SHA-256 (64 hex) of the trimmed, lower-cased e-mail address, either case; optionally followed by .jpg, .jpeg, .png or .webp to force the format.",
                Schema = new Microsoft.OpenApi.OpenApiSchema { Type = text, Pattern = "^([0-9a-fA-F]{32}|[0-9a-fA-F]{64})(\\.(jpg|jpeg|png|webp))?$" },
            },
            Query("s", number, "Size in pixels, 1-512 (above: 512; missing, not a number or below 1: 80)."),
            Query("size", number, "Same as s."),
            Query("d", text, "Default when there is no picture: 404, mp (mm), identicon, monsterid, wavatar, robohash (these three as identicon), retro, initials, color, blank, or an absolute URL (302 only to a host in Avatars:AllowedDefaultRedirectHosts). Missing: Avatars:DefaultStyle."),
            Query("default", text, "Same as d."),
            Query("f", text, "y: always answer the default."),
            Query("forcedefault", text, "Same as f."),
            Query("name", text, "Name whose initials d=initials draws."),
            Query("initials", text, "Letters that d=initials draws."),
            Query("r", text, "Rating: accepted and ignored."),
            Query("rating", text, "Same as r."),
        ];
    }

    public static GravatarQuery Parse(string? queryString)
    {
        int? size = null;
        AvatarDefault? choice = null;
        Uri? redirect = null;
        bool dSeen = false, force = false, fSeen = false;
        string? name = null, initials = null;
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
            var value = raw.ContainsAny('%', '+') ? Unescape(raw) : raw;
            if (key is "s" or "size")
            {
                size ??= SizeOf(value);
            }
            else if (key is "d" or "default")
            {
                if (dSeen) continue;
                dSeen = true;
                choice = AvatarDefault.Parse(value);
                if (choice is null && Uri.TryCreate(value.ToString(), UriKind.Absolute, out var url) && url.Scheme is "http" or "https") redirect = url;
            }
            else if (key is "f" or "forcedefault")
            {
                if (fSeen) continue;
                fSeen = true;
                force = value is "y" or "Y" or "yes" or "true" or "1";
            }
            else if (key is "name") name ??= value.ToString();
            else if (key is "initials") initials ??= value.ToString();
        }
        var text = GeneratedAvatars.InitialsOf(name) ?? GeneratedAvatars.InitialsOf(initials is null ? null : string.Join(' ', initials.EnumerateRunes().Take(2)));
        return new GravatarQuery(size ?? DefaultSize, choice, redirect, force, text);
    }

    /// <summary>1-512 as given; above 512 (however many digits): 512; anything else: 80.</summary>
    private static int SizeOf(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty) return DefaultSize;
        foreach (var c in value) if (!char.IsAsciiDigit(c)) return DefaultSize;
        var digits = value.TrimStart('0');
        if (digits.IsEmpty) return DefaultSize;
        if (digits.Length > 3) return GeneratedAvatars.MaxSize;
        var px = int.Parse(digits);
        return Math.Min(px, GeneratedAvatars.MaxSize);
    }

    private static ReadOnlySpan<char> Unescape(ReadOnlySpan<char> raw)
    {
        try { return Uri.UnescapeDataString(raw.ToString().Replace('+', ' ')); }
        catch (UriFormatException) { return raw; }
    }
}

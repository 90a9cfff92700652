using ImagePictures.Api.Auth;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Storage;
using ImagePictures.Imaging;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using Npgsql;
using Dapper;

namespace ImagePictures.Api.Avatars;

/// <summary>The public image routes: no token, cacheable, WebP when the browser takes it.</summary>
public static class AvatarEndpoints
{
    private const string AvatarCache = "public, max-age=60";
    private const string VariantCache = "public, max-age=31536000, immutable";

    public static void MapAvatars(this IEndpointRouteBuilder app)
    {
        app.MapGet("/avatars/{userId}", GetAvatar).AllowAnonymous().ExcludeFromDescription();
        app.MapGet("/pictures/{pictureId}/{size}", GetVariant).AllowAnonymous().ExcludeFromDescription();
    }

    private static async Task<IResult> GetAvatar(string userId, int? size, [FromQuery(Name = "default")] string? fallback, HttpContext http,
        ActiveAvatarCache cache, DefaultAvatar defaults, PictureStore store, IOptions<PictureOptions> options, CancellationToken ct)
    {
        if (!UserIds.IsValid(userId)) return Problems.Result(400, "Invalid user id", "A user id is 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit.");
        if (size is <= 0) return Problems.Result(400, "Invalid size", "size must be a positive number of pixels.");
        if (fallback is not (null or "404" or "image")) return Problems.Result(400, "Invalid default", "default must be '404' or 'image'.");
        var sizes = options.Value.Sizes;
        var chosen = sizes.Where(s => s >= (size ?? 128)).DefaultIfEmpty(sizes.Max()).Min();
        var webp = AcceptsWebP(http);

        if (await cache.GetAsync(userId, ct) is { } avatar)
        {
            var variant = PictureStore.VariantName(chosen, webp, avatar.HasAlpha);
            if (await VariantFileCache.GetAsync(store, userId, avatar.PictureId, variant, ct) is { } stored)
                return Serve(http, stored, avatar.ContentHash[..16], chosen, variant, AvatarCache);
            cache.Invalidate(userId); // purged meanwhile: fall through to the default
        }

        if (fallback == "404") return Problems.NotFound("This user has no active picture.");
        var prepared = await defaults.GetAsync();
        var name = PictureStore.VariantName(chosen, webp, prepared.Picture.HasAlpha);
        var file = prepared.Files[name];
        SetHeaders(http, AvatarCache);
        return Results.File(file.Bytes, file.ContentType, entityTag: ETag($"default-{prepared.Hash}", chosen, name));
    }

    private static async Task<IResult> GetVariant(string pictureId, string size, HttpContext http, NpgsqlDataSource db,
        PictureStore store, IOptions<PictureOptions> options, CancellationToken ct)
    {
        if (!Guid.TryParse(pictureId, out var id)) return Problems.Result(400, "Invalid picture id", "A picture id is a UUID.");
        if (!int.TryParse(size, out var px) || !options.Value.Sizes.Contains(px))
            return Problems.Result(400, "Invalid size", $"size must be one of {string.Join(", ", options.Value.Sizes)}.");
        await using var conn = await db.OpenConnectionAsync(ct);
        var row = await conn.QuerySingleOrDefaultAsync<(string UserId, string ContentHash, bool HasAlpha)>(
            "SELECT user_id, content_hash, has_alpha FROM pictures WHERE id = @id AND deleted_at IS NULL", new { id });
        if (row.UserId is null) return Problems.NotFound("There is no live picture with that id.");
        var webp = AcceptsWebP(http);
        var name = PictureStore.VariantName(px, webp, row.HasAlpha);
        if (await VariantFileCache.GetAsync(store, row.UserId, id, name, ct) is not { } stored) return Problems.NotFound("There is no live picture with that id.");
        return Serve(http, stored, row.ContentHash[..16], px, name, VariantCache);
    }

    private static IResult Serve(HttpContext http, StoredFile file, string hash, int size, string name, string cacheControl)
    {
        SetHeaders(http, cacheControl);
        // The result answers If-None-Match with 304 itself.
        return Results.File(file.Bytes, ImagePipeline.ContentTypeFor(name), lastModified: file.LastModified, entityTag: ETag(hash, size, name));
    }

    private static EntityTagHeaderValue ETag(string hash, int size, string name) => new($"\"{hash}-{name}\"");

    private static void SetHeaders(HttpContext http, string cacheControl)
    {
        var h = http.Response.Headers;
        h.CacheControl = cacheControl;
        h.Vary = "Accept";
        h.XContentTypeOptions = "nosniff";
    }

    private static bool AcceptsWebP(HttpContext http) =>
        http.Request.Headers.Accept.Any(a => a is not null && a.Contains("image/webp", StringComparison.OrdinalIgnoreCase));
}

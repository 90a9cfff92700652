using System.Globalization;
using Microsoft.Extensions.Primitives;

namespace ImagePictures.Api.Avatars;

/// <summary>The request headers the image routes read, parsed without allocating.</summary>
public static class ImageRequestHeaders
{
    /// <summary>
    /// WebP when the client lists <c>image/webp</c> itself with a q above 0, and does not rate the
    /// fallback type (by its most specific range: exact, <c>image/*</c>, <c>*/*</c>) higher. No Accept: the fallback.
    /// </summary>
    public static bool PrefersWebP(StringValues accept, bool fallbackIsPng)
    {
        var fallbackSubtype = fallbackIsPng ? "png" : "jpeg";
        double webp = 0, fallback = 0;
        int fallbackRank = 0;
        foreach (var value in accept)
        {
            if (value is null) continue;
            var rest = value.AsSpan();
            while (!rest.IsEmpty)
            {
                var comma = rest.IndexOf(',');
                var range = comma < 0 ? rest : rest[..comma];
                rest = comma < 0 ? default : rest[(comma + 1)..];

                var semicolon = range.IndexOf(';');
                var media = (semicolon < 0 ? range : range[..semicolon]).Trim();
                var slash = media.IndexOf('/');
                if (slash <= 0) continue;
                var type = media[..slash];
                var subtype = media[(slash + 1)..];
                var q = semicolon < 0 ? 1 : Quality(range[(semicolon + 1)..]);

                if (type.Equals("image", StringComparison.OrdinalIgnoreCase) && subtype.Equals("webp", StringComparison.OrdinalIgnoreCase))
                    webp = Math.Max(webp, q);
                var rank = 0; // how specifically this range names the fallback type
                if (type is "*" && subtype is "*") rank = 1;
                else if (type.Equals("image", StringComparison.OrdinalIgnoreCase))
                    rank = subtype is "*" ? 2 : subtype.Equals(fallbackSubtype, StringComparison.OrdinalIgnoreCase) ? 3 : 0;
                if (rank > fallbackRank) (fallbackRank, fallback) = (rank, q);
                else if (rank == fallbackRank && rank > 0) fallback = Math.Max(fallback, q);
            }
        }
        return webp > 0 && webp >= fallback;
    }

    /// <summary>The q parameter of a media range's parameters ("q=0.5; level=1"); 1 when absent or unreadable.</summary>
    private static double Quality(ReadOnlySpan<char> parameters)
    {
        while (!parameters.IsEmpty)
        {
            var semicolon = parameters.IndexOf(';');
            var parameter = (semicolon < 0 ? parameters : parameters[..semicolon]).Trim();
            parameters = semicolon < 0 ? default : parameters[(semicolon + 1)..];
            if (parameter.Length >= 2 && (parameter[0] | 0x20) == 'q' && parameter[1] == '=')
                return double.TryParse(parameter[2..], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var q) ? Math.Clamp(q, 0, 1) : 1;
        }
        return 1;
    }

    /// <summary>If-None-Match holds this strong ETag (weak comparison, as RFC 9110 asks for If-None-Match), or "*".</summary>
    public static bool Matches(StringValues ifNoneMatch, string etag)
    {
        foreach (var value in ifNoneMatch)
        {
            if (value is null) continue;
            var rest = value.AsSpan();
            while (!rest.IsEmpty)
            {
                var comma = rest.IndexOf(',');
                var tag = (comma < 0 ? rest : rest[..comma]).Trim();
                rest = comma < 0 ? default : rest[(comma + 1)..];
                if (tag.StartsWith("W/", StringComparison.Ordinal)) tag = tag[2..];
                if (tag is "*" || tag.SequenceEqual(etag)) return true;
            }
        }
        return false;
    }
}

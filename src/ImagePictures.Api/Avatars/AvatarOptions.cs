using System.ComponentModel.DataAnnotations;
using ImagePictures.Imaging;

namespace ImagePictures.Api.Avatars;

/// <summary>
/// Section Avatars: what the avatar routes answer for a user without a picture, how addresses are
/// learned, and the sizes of the public image routes' caches.
/// </summary>
public sealed class AvatarOptions
{
    public const string Section = "Avatars";

    /// <summary>The default of /avatars/{userId} and of /avatar/{hash} without d: image (the copied default picture), mp, identicon, retro, initials or color.</summary>
    [RegularExpression("^(image|mp|identicon|retro|initials|color)$", ErrorMessage = "expected image, mp, identicon, retro, initials or color.")]
    public string DefaultStyle { get; set; } = "image";

    /// <summary>Hosts that /avatar/{hash}?d={absolute URL} may redirect to (exact host names); empty: no redirect at all.</summary>
    public string[] AllowedDefaultRedirectHosts { get; set; } = [];

    /// <summary>A token's e-mail with email_verified: true is registered for its sub on its first request.</summary>
    public bool TrustVerifiedEmailClaim { get; set; } = true;

    /// <summary>Users whose active picture (or its absence) is kept in memory.</summary>
    public int CacheEntries { get; set; } = 100_000;

    /// <summary>Pictures whose owner and liveness /pictures/{id}/{size} keeps in memory (trashed or unknown ones too).</summary>
    public int PictureCacheEntries { get; set; } = 100_000;

    /// <summary>Bytes of variant files kept in memory (files over 128 KB are never kept).</summary>
    public long VariantCacheBytes { get; set; } = 64L * 1024 * 1024;

    /// <summary>
    /// Up to this many ids of users with an active picture are known in memory, so that a request for
    /// any other user is answered with the default image without a lookup. Beyond it only the cache is used.
    /// </summary>
    public int IndexLimit { get; set; } = 1_000_000;

    /// <summary>
    /// Up to this many registered e-mail addresses are held in memory (/avatar/{hash} then makes no query at
    /// all); beyond it, lookups go through two bounded caches (found, unknown) of CacheEntries each.
    /// </summary>
    public int EmailIndexLimit { get; set; } = 1_000_000;

    /// <summary>The configured style; null for the copied default picture.</summary>
    public AvatarStyle? Style => AvatarDefault.Parse(DefaultStyle) is { NotFound: false } d ? d.Style : null;
}

/// <summary>
/// The answer for a missing picture: <see cref="NotFound"/> (404), the copied default picture
/// (<see cref="Style"/> null, not <see cref="NotFound"/>), or a generated <see cref="Style"/>.
/// </summary>
public readonly record struct AvatarDefault(AvatarStyle? Style, bool NotFound)
{
    public static readonly AvatarDefault Image = new(null, false);

    /// <summary>The values both routes accept (and Gravatar's aliases); null for anything else.</summary>
    public static AvatarDefault? Parse(ReadOnlySpan<char> value)
    {
        Span<char> lower = stackalloc char[16];
        if (value.Length > lower.Length) return null;
        var n = value.ToLowerInvariant(lower);
        return lower[..n] switch
        {
            "image" => Image,
            "404" => new AvatarDefault(null, true),
            "mp" or "mm" => new AvatarDefault(AvatarStyle.Mp, false),
            "identicon" or "monsterid" or "wavatar" or "robohash" => new AvatarDefault(AvatarStyle.Identicon, false),
            "retro" => new AvatarDefault(AvatarStyle.Retro, false),
            "initials" => new AvatarDefault(AvatarStyle.Initials, false),
            "color" => new AvatarDefault(AvatarStyle.Color, false),
            "blank" => new AvatarDefault(AvatarStyle.Blank, false),
            _ => null,
        };
    }
}

using System.ComponentModel.DataAnnotations;
using ImagePictures.Imaging;

namespace ImagePictures.Api.Avatars;

/// <summary>What the avatar routes answer for a user without a picture, and how addresses are learned (section <c>Avatars</c>).</summary>
public sealed class AvatarSettings
{
    /// <summary>The default of /avatars/{userId} and of /avatar/{hash} without d: image (the copied default picture), mp, identicon, retro, initials or color.</summary>
    [RegularExpression("^(image|mp|identicon|retro|initials|color)$", ErrorMessage = "expected image, mp, identicon, retro, initials or color.")]
    public string DefaultStyle { get; set; } = "image";

    /// <summary>Hosts that /avatar/{hash}?d={absolute URL} may redirect to (exact host names); empty: no redirect at all.</summary>
    public string[] AllowedDefaultRedirectHosts { get; set; } = [];

    /// <summary>A token's e-mail with email_verified: true is registered for its sub on its first request.</summary>
    public bool TrustVerifiedEmailClaim { get; set; } = true;

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

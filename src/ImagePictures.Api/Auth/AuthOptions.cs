using System.ComponentModel.DataAnnotations;
using System.Text;

namespace ImagePictures.Api.Auth;

/// <summary>
/// Auth:*: tokens come from an OIDC provider (Authority + Audience: discovery and JWKS) or, in
/// Development, are HS256 tokens signed with SigningKey. A symmetric key anywhere else must be
/// allowed explicitly (AllowSymmetricKey), since whoever reads the settings can then mint tokens.
/// </summary>
public sealed class AuthOptions : IValidatableObject
{
    public const string Section = "Auth";

    public string? Authority { get; set; }
    public string? Audience { get; set; } = "imagepictures";
    public bool RequireHttpsMetadata { get; set; } = true;
    public string? SigningKey { get; set; }
    public string? Issuer { get; set; } = "imagepictures";
    public bool AllowSymmetricKey { get; set; }

    public bool UsesAuthority => !string.IsNullOrWhiteSpace(Authority);

    public IEnumerable<ValidationResult> Validate(ValidationContext context)
    {
        var development = context.GetRequiredService<IHostEnvironment>().IsDevelopment();
        var hasKey = !string.IsNullOrWhiteSpace(SigningKey);
        if (!UsesAuthority && !hasKey)
        {
            yield return new ValidationResult(
                "no token issuer: expected the OIDC provider's URL in Auth:Authority and the audience of its tokens in Auth:Audience"
                + (development ? " (or Auth:SigningKey for development tokens)." : "."),
                [nameof(Authority), nameof(Audience)]);
            yield break;
        }
        if (string.IsNullOrWhiteSpace(Audience))
            yield return new ValidationResult("expected the audience ('aud') that tokens for this service carry, e.g. imagepictures.", [nameof(Audience)]);
        if (UsesAuthority)
        {
            if (!Uri.TryCreate(Authority, UriKind.Absolute, out var uri) || uri.Scheme is not ("https" or "http"))
                yield return new ValidationResult("expected the absolute https:// URL of the OIDC provider (its issuer).", [nameof(Authority)]);
            else if (uri.Scheme == "http" && RequireHttpsMetadata)
                yield return new ValidationResult("expected an https:// URL; for an http:// provider (tests only) also set Auth:RequireHttpsMetadata=false.", [nameof(Authority)]);
            yield break;
        }
        if (!development && !AllowSymmetricKey)
            yield return new ValidationResult(
                "an HS256 signing key is refused outside Development: expected Auth:Authority and Auth:Audience for your OIDC provider, or Auth:AllowSymmetricKey=true to accept the key anyway.",
                [nameof(SigningKey)]);
        else if (Encoding.UTF8.GetByteCount(SigningKey!) < 32)
            yield return new ValidationResult("expected a signing key of at least 32 bytes (HS256 needs 256 bits).", [nameof(SigningKey)]);
        if (string.IsNullOrWhiteSpace(Issuer))
            yield return new ValidationResult("expected the issuer ('iss') written into and required of HS256 tokens, e.g. imagepictures.", [nameof(Issuer)]);
    }
}

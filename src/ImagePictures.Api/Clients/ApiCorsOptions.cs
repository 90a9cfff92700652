using System.ComponentModel.DataAnnotations;
using ImagePictures.Api.Hosting;

namespace ImagePictures.Api.Clients;

/// <summary>Section Cors: the pages that may call /api themselves.</summary>
public sealed class ApiCorsOptions : IValidatableObject
{
    public const string Section = "Cors";

    /// <summary>Origins (scheme://host[:port]) whose pages may call /api with a bearer token; in Development any origin may.</summary>
    public string[] AllowedOrigins { get; set; } = [];

    public IEnumerable<ValidationResult> Validate(ValidationContext context) => Settings.CheckOrigins(AllowedOrigins, nameof(AllowedOrigins));
}

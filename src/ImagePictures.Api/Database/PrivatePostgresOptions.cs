using System.ComponentModel.DataAnnotations;

namespace ImagePictures.Api.Database;

/// <summary>Section PrivatePostgres: the cluster the service starts itself when ConnectionStrings:Pictures is empty.</summary>
public sealed class PrivatePostgresOptions
{
    public const string Section = "PrivatePostgres";

    /// <summary>Relative to the repository unless absolute.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "expected the folder of the private PostgreSQL cluster, e.g. .data/postgres.")]
    public string DataDirectory { get; set; } = ".data/postgres";
}

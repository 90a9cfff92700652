using System.ComponentModel.DataAnnotations;

namespace ImagePictures.Api.Trash;

/// <summary>Section Trash: how long a trashed picture waits before the trash-purge job deletes it.</summary>
public sealed class TrashOptions
{
    public const string Section = "Trash";

    [Range(0, 36500, ErrorMessage = "expected the days a trashed picture is kept, from 0 to 36500.")]
    public int RetentionDays { get; set; } = 30;
}

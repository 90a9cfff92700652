using System.ComponentModel.DataAnnotations;
using ImagePictures.Api.Hosting;

namespace ImagePictures.Api.Realtime;

/// <summary>Section Realtime: who may open the hub, and how much one user or address may hold on it.</summary>
public sealed record RealtimeOptions : IValidatableObject
{
    public const string Section = "Realtime";

    /// <summary>Origins (scheme://host[:port]) allowed to open the hub from a browser; empty allows any.</summary>
    public string[] AllowedOrigins { get; init; } = [];

    /// <summary>Users one user may watch in total, over all of its connections (each connection's watches count).</summary>
    [Range(1, 1_000_000, ErrorMessage = "expected the users one user may watch, at least 1.")]
    public int MaxWatchedUsers { get; init; } = 1000;

    /// <summary>Hub connections one user may hold at once; beyond it 429 on negotiate or connect.</summary>
    public int MaxConnectionsPerUser { get; init; } = 20;

    /// <summary>Whether a connection without a token may watch avatars (the avatars are public anyway).</summary>
    public bool AnonymousWatch { get; init; } = true;

    /// <summary>Anonymous connections one client address may hold at once; beyond it 429 on negotiate or connect.</summary>
    public int MaxAnonymousConnectionsPerAddress { get; init; } = 20;

    public IEnumerable<ValidationResult> Validate(ValidationContext context) => Settings.CheckOrigins(AllowedOrigins, nameof(AllowedOrigins));
}

namespace ImagePictures.Contracts;

/// <summary>
/// A picture as the service describes it, in every JSON answer, event and hub message. Watchers who are not admins
/// receive only <see cref="PublicPicture"/>'s fields, watchers of an e-mail hash only <see cref="HashAvatarPicture"/>'s.
/// </summary>
public sealed record PictureJson(
    Guid Id, string UserId, bool IsActive, bool IsDefault, int Width, int Height, long Bytes, string ContentHash,
    string? Title, DateTime CreatedAt, DateTime? DeletedAt, DateTime? PurgeAfter, IReadOnlyDictionary<string, string> Urls);

/// <summary>The fields of a picture anyone may know: the avatar itself is public.</summary>
public sealed record PublicPicture(Guid Id, string UserId, string ContentHash, IReadOnlyDictionary<string, string> Urls)
{
    public static PublicPicture From(PictureJson p) => new(p.Id, p.UserId, p.ContentHash, p.Urls);
}

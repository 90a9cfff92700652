using ImagePictures.Api.Storage;
using ImagePictures.Imaging;

namespace ImagePictures.Api.Avatars;

/// <summary>images/default/default.png, normalised once per process, served from memory.</summary>
public sealed class DefaultAvatar(ImagePipeline imaging, IConfiguration config)
{
    private readonly Lazy<Task<Prepared>> _prepared = new(async () =>
    {
        var picture = await imaging.NormalizeAsync(await File.ReadAllBytesAsync(PictureStore.DefaultPicturePath(config)));
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(picture.Master.Bytes))[..16];
        return new Prepared(picture, picture.Files.ToDictionary(f => f.FileName), hash);
    });

    public sealed record Prepared(NormalizedPicture Picture, IReadOnlyDictionary<string, EncodedFile> Files, string Hash);

    public Task<Prepared> GetAsync() => _prepared.Value;
}

using ImagePictures.Api.Storage;
using ImagePictures.Imaging;

namespace ImagePictures.Api.Avatars;

/// <summary>images/default/default.png, normalised once per process, served from memory.</summary>
public sealed class DefaultAvatar(ImagePipeline imaging, IConfiguration config, VariantTable table)
{
    private readonly Lazy<Task<Prepared>> _prepared = new(async () =>
    {
        var picture = await imaging.NormalizeAsync(await File.ReadAllBytesAsync(PictureStore.DefaultPicturePath(config)));
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(picture.Master.Bytes))[..16];
        var files = picture.Files.ToDictionary(f => f.FileName);
        var variants = new Variant[table.Count];
        for (var slot = 0; slot < variants.Length; slot++)
        {
            var name = table.FileName(slot, picture.HasAlpha);
            variants[slot] = new Variant(files[name].Bytes, $"\"default-{hash}-{name}\"", VariantTable.ContentType(slot, picture.HasAlpha));
        }
        return new Prepared(picture, variants);
    });

    public sealed record Variant(byte[] Bytes, string ETag, string ContentType);

    /// <summary>The normalised default picture (copied for new users), and its variants by slot (see <see cref="VariantTable"/>).</summary>
    public sealed record Prepared(NormalizedPicture Picture, Variant[] Variants);

    public Task<Prepared> GetAsync() => _prepared.Value;
}

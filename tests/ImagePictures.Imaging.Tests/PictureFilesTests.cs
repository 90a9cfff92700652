using static ImagePictures.Testing.TestImages;

namespace ImagePictures.Imaging.Tests;

/// <summary>The pipeline writes exactly the files <see cref="PictureFiles"/> names, and those names are the stored ones of today.</summary>
[Trait("Category", "Unit")]
public sealed class PictureFilesTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ThePipelineWritesExactlyTheNamedFiles(bool alpha)
    {
        using var pipeline = new ImagePipeline(new ImagingOptions { Sizes = [32, 64, 100], MasterSize = 64 });
        using var image = alpha ? Canvas(80, 80, [10, 20, 30, 128]) : Canvas(80, 80, Red);
        var picture = await pipeline.NormalizeAsync(alpha ? Png(image) : Jpeg(image));

        Assert.Equal(alpha, picture.HasAlpha);
        var written = new[] { picture.Master }.Concat(picture.Files).ToList();
        Assert.Equal(pipeline.Files.Of(alpha).Order(), written.Select(f => f.FileName).Order());
        Assert.Equal(pipeline.Files.Count, written.Count);
        Assert.All(written, f => Assert.Equal(ImagePipeline.ContentTypeFor(f.FileName), f.ContentType));
        Assert.Subset(pipeline.Files.AnyOf().ToHashSet(), written.Select(f => f.FileName).ToHashSet());
    }

    [Fact]
    public void NamesAreTheStoredOnes()
    {
        var files = new PictureFiles([32, 64]);
        Assert.Equal(["master.jpg", "32.jpg", "32.webp", "64.jpg", "64.webp"], files.Of(hasAlpha: false));
        Assert.Equal(["master.png", "32.png", "32.webp", "64.png", "64.webp"], files.Of(hasAlpha: true));
        Assert.Equal(["master.jpg", "32.jpg", "32.webp", "64.jpg", "64.webp", "master.png", "32.png", "64.png"], files.AnyOf());
    }
}

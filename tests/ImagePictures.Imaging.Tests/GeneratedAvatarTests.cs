using System.Security.Cryptography;
using System.Text;
using NetVips;
using static ImagePictures.Imaging.GeneratedAvatars;

namespace ImagePictures.Imaging.Tests;

/// <summary>The generated defaults: exact dimensions, the same bytes for the same input, readable colours.</summary>
[Trait("Category", "Unit")]
public sealed class GeneratedAvatarTests
{
    private static readonly AvatarStyle[] Styles = Enum.GetValues<AvatarStyle>();
    private static byte[] Seed(string email) => MD5.HashData(Encoding.UTF8.GetBytes(email));

    public GeneratedAvatarTests() => ImagePipeline.EnsureInitialized();

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(16)]
    [InlineData(80)]
    [InlineData(333)]
    [InlineData(512)]
    public void EveryStyleIsExactlyTheAskedSizeInEveryFormat(int size)
    {
        foreach (var style in Styles)
            foreach (var format in Enum.GetValues<AvatarFormat>())
            {
                using var image = Image.NewFromBuffer(Draw(style, Seed("ada@example.com"), size, format, "AL"));
                Assert.Equal((size, size), (image.Width, image.Height));
            }
    }

    [Fact]
    public void TheSameSeedAndSizeGiveTheSameBytesAndAnotherSeedOthers()
    {
        foreach (var style in Styles)
        {
            var first = Draw(style, Seed("ada@example.com"), 80, AvatarFormat.Png, "AL");
            Assert.Equal(first, Draw(style, Seed("ada@example.com"), 80, AvatarFormat.Png, "AL"));
            Assert.Equal(first, Draw(style, Seed("ada@example.com"), 80, AvatarFormat.Png, "AL"));
        }
        foreach (var style in new[] { AvatarStyle.Identicon, AvatarStyle.Retro })
        {
            var distinct = Enumerable.Range(0, 20).Select(i => Convert.ToHexString(SHA256.HashData(
                Draw(style, Seed($"user{i}@example.com"), 64, AvatarFormat.Png)))).Distinct().Count();
            Assert.True(distinct >= 19, $"{style}: only {distinct} distinct images for 20 seeds");
        }
        Assert.NotEqual(Draw(AvatarStyle.Initials, Seed("a@example.com"), 80, AvatarFormat.Png, "AL"),
            Draw(AvatarStyle.Initials, Seed("a@example.com"), 80, AvatarFormat.Png, "GH"));
    }

    [Fact]
    public void EveryPaletteColourReadsOnLightAndDarkPagesAndUnderWhite()
    {
        foreach (var c in Palette)
        {
            Assert.True(Contrast(c.Luminance, 1.0) >= 3, $"{c} on a white page");
            Assert.True(Contrast(c.Luminance, 0.0) >= 3, $"{c} on a black page");
            Assert.True(Contrast(c.Luminance, Tile.Luminance) >= 3, $"{c} on the identicon tile");
        }
        Assert.True(Contrast(MpBackground.Luminance, MpFigure.Luminance) >= 3);
    }

    [Theory]
    [InlineData(AvatarStyle.Mp)]
    [InlineData(AvatarStyle.Identicon)]
    [InlineData(AvatarStyle.Retro)]
    [InlineData(AvatarStyle.Initials)]
    public void ForegroundAndBackgroundDifferByALuminanceRatioOfAtLeast3(AvatarStyle style)
    {
        for (var i = 0; i < 10; i++)
        {
            var (background, foreground) = TwoCommonestColours(Draw(style, Seed($"c{i}@example.com"), 128, AvatarFormat.Png, "Q"));
            var ratio = Contrast(background.Luminance, foreground.Luminance);
            Assert.True(ratio >= 3, $"{style} seed {i}: {background} vs {foreground} is {ratio:0.00}");
        }
    }

    [Fact]
    public void TheIdenticonIsMirroredAndTheRetroFaceToo()
    {
        foreach (var style in new[] { AvatarStyle.Identicon, AvatarStyle.Retro })
        {
            using var image = Image.NewFromBuffer(Draw(style, Seed("mirror@example.com"), 80, AvatarFormat.Png));
            var px = image.WriteToMemory();
            for (var y = 0; y < 80; y++)
                for (var x = 0; x < 40; x++)
                    Assert.Equal(px[(y * 80 + x) * 3], px[(y * 80 + 79 - x) * 3]);
        }
    }

    [Fact]
    public void BlankIsATransparentPngAndColourOneSolidColour()
    {
        using var blank = Image.NewFromBuffer(Draw(AvatarStyle.Blank, Seed("x@example.com"), 40, AvatarFormat.Jpeg));
        Assert.Equal(4, blank.Bands);
        Assert.Equal(0, blank[3].Max());
        using var colour = Image.NewFromBuffer(Draw(AvatarStyle.Color, Seed("x@example.com"), 40, AvatarFormat.Png));
        for (var band = 0; band < 3; band++) Assert.Equal(0, colour[band].Deviate());
    }

    [Theory]
    [InlineData("Ada Lovelace", "AL")]
    [InlineData("grace", "G")]
    [InlineData("jean-luc picard", "JP")]
    [InlineData("Ирина Петрова", "ИП")]
    [InlineData("李 小龙", "李小")]
    [InlineData("  ", null)]
    [InlineData("__", null)]
    public void InitialsAreTheFirstLettersOfTheFirstAndLastWord(string name, string? expected) =>
        Assert.Equal(expected, InitialsOf(name));

    [Fact]
    public void InitialsInOtherScriptsRenderGlyphs()
    {
        foreach (var text in new[] { "AL", "ИП", "ΑΩ", "אב", "अ" })
        {
            var (_, foreground) = TwoCommonestColours(Draw(AvatarStyle.Initials, Seed("s@example.com"), 96, AvatarFormat.Png, text));
            Assert.Equal(White, foreground); // white letters were drawn, not only the background
        }
    }

    [Fact]
    public void AStoredPictureIsResizedToExactlyTheAskedSize()
    {
        var source = Draw(AvatarStyle.Identicon, Seed("r@example.com"), 128, AvatarFormat.Png);
        foreach (var format in Enum.GetValues<AvatarFormat>())
        {
            using var image = Image.NewFromBuffer(Resize(source, 77, format));
            Assert.Equal((77, 77), (image.Width, image.Height));
        }
    }

    /// <summary>Writes docs/images/generated-avatars.png (each style at 32, 80 and 256 px) when IMAGEPICTURES_WRITE_DOCS_IMAGES=1.</summary>
    [Fact]
    public void ContactSheetOfEveryStyle()
    {
        int[] sizes = [32, 80, 256];
        const int gap = 16;
        var width = gap + sizes.Sum(s => s + gap);
        var height = gap + Styles.Length * (256 + gap);
        using var sheet = Image.Black(width, height, bands: 3).NewFromImage(250, 250, 250).Copy(interpretation: Enums.Interpretation.Srgb);
        var composed = sheet.Cast(Enums.BandFormat.Uchar);
        for (var row = 0; row < Styles.Length; row++)
        {
            var x = gap;
            foreach (var size in sizes)
            {
                using var tile = Image.NewFromBuffer(Draw(Styles[row], Seed($"row{row}@example.com"), size, AvatarFormat.Png, "AL"));
                using var rgb = tile.HasAlpha() ? tile.Flatten(background: [200, 200, 200]) : tile.Copy();
                composed = composed.Insert(rgb.Cast(Enums.BandFormat.Uchar), x, gap + row * (256 + gap));
                x += size + gap;
            }
        }
        Assert.Equal((width, height), (composed.Width, composed.Height));
        if (Environment.GetEnvironmentVariable("IMAGEPICTURES_WRITE_DOCS_IMAGES") == "1")
            File.WriteAllBytes(Path.Combine(RepositoryRoot(), "docs", "images", "generated-avatars.png"), composed.PngsaveBuffer());
    }

    private static string RepositoryRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "ImagePictures.sln"))) dir = dir.Parent;
        return dir!.FullName;
    }

    private static (Rgb Background, Rgb Foreground) TwoCommonestColours(byte[] png)
    {
        using var image = Image.NewFromBuffer(png);
        var px = image.WriteToMemory();
        var counts = new Dictionary<Rgb, int>();
        for (var i = 0; i + 2 < px.Length; i += image.Bands)
        {
            var c = new Rgb(px[i], px[i + 1], px[i + 2]);
            counts[c] = counts.GetValueOrDefault(c) + 1;
        }
        var top = counts.OrderByDescending(kv => kv.Value).Take(2).Select(kv => kv.Key).ToArray();
        return (top[0], top[1]);
    }
}

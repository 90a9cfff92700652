using System.Globalization;
using System.Text;
using NetVips;

namespace ImagePictures.Imaging;

/// <summary>The generated defaults: a fixed silhouette, or a picture derived from a seed (an e-mail hash, a user id's hash).</summary>
public enum AvatarStyle { Mp, Identicon, Retro, Initials, Color, Blank }

/// <summary>The encodings the avatar routes answer with.</summary>
public enum AvatarFormat { Jpeg, Png, WebP }

/// <summary>
/// Draws the generated avatars at exactly the requested size (no scaling of a fixed bitmap, so they are
/// sharp at 16 px and at 512 px) and encodes them with libvips. The same style, seed, size, format and
/// text always give the same bytes: every choice comes from the seed, and nothing reads a clock or a
/// random source. Colours come from <see cref="Palette"/>, whose every colour reads on light and dark
/// pages and under white marks (a luminance ratio of at least 3 each way).
/// </summary>
public static class GeneratedAvatars
{
    public const int MaxSize = 512;

    /// <summary>
    /// Background colours: relative luminance between 0.10 and 0.30, so that each differs by a ratio of
    /// at least 3 from white and from black pages, and white marks on it do too.
    /// </summary>
    public static readonly Rgb[] Palette =
    [
        new(0xD3, 0x2F, 0x2F), // red
        new(0xC2, 0x18, 0x5B), // pink
        new(0x9C, 0x27, 0xB0), // purple
        new(0x5E, 0x5C, 0xE6), // indigo
        new(0x1E, 0x76, 0xD2), // blue
        new(0x00, 0x7C, 0x91), // cyan
        new(0x00, 0x89, 0x7B), // teal
        new(0x38, 0x8E, 0x3C), // green
        new(0x6D, 0x7F, 0x1F), // olive
        new(0xB2, 0x5E, 0x00), // amber
        new(0xD8, 0x43, 0x15), // deep orange
        new(0x79, 0x55, 0x48), // brown
        new(0x54, 0x6E, 0x7A), // blue grey
    ];

    /// <summary>The marks drawn on a palette colour, and the light tile the identicon's cells sit on.</summary>
    public static readonly Rgb White = new(0xFF, 0xFF, 0xFF), Tile = new(0xF0, 0xF0, 0xF0);

    /// <summary>The mystery person's colours: a pale figure on slate.</summary>
    public static readonly Rgb MpBackground = new(0x60, 0x70, 0x84), MpFigure = new(0xE6, 0xEA, 0xEF);

    public readonly record struct Rgb(byte R, byte G, byte B)
    {
        /// <summary>WCAG relative luminance.</summary>
        public double Luminance => 0.2126 * Linear(R) + 0.7152 * Linear(G) + 0.0722 * Linear(B);

        private static double Linear(byte c)
        {
            var v = c / 255.0;
            return v <= 0.03928 ? v / 12.92 : Math.Pow((v + 0.055) / 1.055, 2.4);
        }
    }

    /// <summary>WCAG contrast ratio of two luminances (1 to 21).</summary>
    public static double Contrast(double a, double b) => (Math.Max(a, b) + 0.05) / (Math.Min(a, b) + 0.05);

    /// <summary>
    /// The image, <paramref name="size"/>×<paramref name="size"/> (1 to <see cref="MaxSize"/>).
    /// <paramref name="seed"/>: at least 16 bytes (an MD5 or SHA-256). <paramref name="initials"/>: the
    /// text of <see cref="AvatarStyle.Initials"/> (see <see cref="InitialsOf"/>). Blank is always a PNG.
    /// </summary>
    public static byte[] Draw(AvatarStyle style, ReadOnlySpan<byte> seed, int size, AvatarFormat format, string? initials = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(size, MaxSize);
        if (seed.Length < 16) throw new ArgumentException("The seed must be at least 16 bytes.", nameof(seed));
        ImagePipeline.EnsureInitialized();
        var background = Palette[seed[0] % Palette.Length];
        if (style == AvatarStyle.Blank) return Encode(new byte[size * size * 4], size, 4, AvatarFormat.Png);
        if (style == AvatarStyle.Initials) return Encode(DrawInitials(size, background, initials ?? "?"), size, 3, format);
        var pixels = new byte[size * size * 3];
        switch (style)
        {
            case AvatarStyle.Color:
                Fill(pixels, size, 0, 0, size, size, background);
                break;
            case AvatarStyle.Mp:
                DrawSilhouette(pixels, size);
                break;
            case AvatarStyle.Identicon:
                DrawIdenticon(pixels, size, seed, background);
                break;
            case AvatarStyle.Retro:
                DrawRetro(pixels, size, seed, background);
                break;
        }
        return Encode(pixels, size, 3, format);
    }

    public static string ContentType(AvatarFormat format) => format switch
    {
        AvatarFormat.Png => "image/png",
        AvatarFormat.WebP => "image/webp",
        _ => "image/jpeg",
    };

    /// <summary>
    /// Up to two letters for <see cref="AvatarStyle.Initials"/>: the first letter of the first and the last
    /// word ("Ada Lovelace" → "AL"), or of the only word; whole characters of any script, upper-cased.
    /// Null when the name has no letter or digit.
    /// </summary>
    public static string? InitialsOf(string? name)
    {
        if (string.IsNullOrWhiteSpace(name)) return null;
        var words = name.Split([' ', '\t', '.', '_', '-', '+', ','], StringSplitOptions.RemoveEmptyEntries)
            .Select(FirstLetter).Where(l => l is not null).ToList();
        if (words.Count == 0) return null;
        var text = words.Count == 1 ? words[0]! : words[0] + words[^1];
        return text.ToUpperInvariant();
    }

    private static string? FirstLetter(string word)
    {
        var e = StringInfo.GetTextElementEnumerator(word);
        while (e.MoveNext())
        {
            var element = (string)e.Current;
            if (char.IsLetterOrDigit(element, 0)) return element;
        }
        return null;
    }

    // ---------------------------------------------------------------- styles

    /// <summary>Gravatar's "mystery person": a head and shoulders, anti-aliased by 4×4 supersampling.</summary>
    private static void DrawSilhouette(byte[] pixels, int size)
    {
        const int ss = 4;
        for (var y = 0; y < size; y++)
            for (var x = 0; x < size; x++)
            {
                var inside = 0;
                for (var sy = 0; sy < ss; sy++)
                    for (var sx = 0; sx < ss; sx++)
                    {
                        var u = (x + (sx + 0.5) / ss) / size;
                        var v = (y + (sy + 0.5) / ss) / size;
                        var head = Sq(u - 0.5) + Sq(v - 0.39) <= Sq(0.19);
                        var body = Sq((u - 0.5) / 0.36) + Sq((v - 1.02) / 0.40) <= 1;
                        if (head || body) inside++;
                    }
                Blend(pixels, size, x, y, MpBackground, MpFigure, inside / (double)(ss * ss));
            }
    }

    /// <summary>Gravatar's identicon: a 5×5 grid mirrored about its middle column, coloured cells on a light tile.</summary>
    private static void DrawIdenticon(byte[] pixels, int size, ReadOnlySpan<byte> seed, Rgb colour)
    {
        Fill(pixels, size, 0, 0, size, size, Tile);
        var on = CellBits(seed, 15, skip: 2);
        var margin = size / 10;
        for (var row = 0; row < 5; row++)
            for (var col = 0; col < 3; col++)
            {
                if (!on[row * 3 + col]) continue;
                FillCell(pixels, size, margin, 5, col, row, colour);
                FillCell(pixels, size, margin, 5, 4 - col, row, colour);
            }
    }

    /// <summary>
    /// An 8-bit "invader": an 8×8 sprite mirrored about its middle, white on a palette colour, edge to
    /// edge (the identicon has a margin, 5×5 cells and a light tile), with two eyes always left open.
    /// </summary>
    private static void DrawRetro(byte[] pixels, int size, ReadOnlySpan<byte> seed, Rgb background)
    {
        Fill(pixels, size, 0, 0, size, size, background);
        var bits = CellBits(seed, 32, skip: 4);
        var margin = size / 8;
        for (var row = 0; row < 8; row++)
            for (var col = 0; col < 4; col++)
            {
                // A body of rows 1-6, wider towards the middle; the eyes (row 2, column 2 from the middle) stay holes.
                var eye = row == 2 && col == 2;
                var body = row is >= 1 and <= 6 && col >= (row is 1 or 6 ? 1 : 0);
                var filled = !eye && (bits[row * 4 + col] || (body && col == 3 && row is >= 2 and <= 4));
                if (!filled) continue;
                FillCell(pixels, size, margin, 8, col, row, White);
                FillCell(pixels, size, margin, 8, 7 - col, row, White);
            }
    }

    /// <summary>White letters set by Pango (DejaVu Sans Bold, other scripts by fontconfig's fallback) on a palette colour.</summary>
    private static readonly Lock TextLock = new();

    private static byte[] DrawInitials(int size, Rgb background, string text)
    {
        var pixels = new byte[size * size * 3];
        Fill(pixels, size, 0, 0, size, size, background);
        // Below 6 px no glyph is readable, and Pango's hinting gets unpredictable.
        if (size < 6) return pixels;
        var markup = "<b>" + System.Security.SecurityElement.Escape(text) + "</b>";
        var boxWidth = Math.Max(1, (int)Math.Round(size * (text.Length > 1 ? 0.62 : 0.42)));
        var boxHeight = Math.Max(1, (int)Math.Round(size * 0.42));
        byte[] bytes;
        int w, h;
        // One text render at a time: Pango and fontconfig are not safely re-entrant across threads, and a test
        // host crashed once while initials were drawn beside other libvips work. Renders are cached, so this costs little.
        lock (TextLock)
        {
            using var mask = Image.Text(markup, font: "DejaVu Sans Bold", width: boxWidth, height: boxHeight, align: Enums.Align.Centre);
            bytes = mask.WriteToMemory();
            (w, h) = (mask.Width, mask.Height);
        }
        var left = (size - w) / 2;
        var top = (size - h) / 2;
        for (var y = 0; y < h; y++)
            for (var x = 0; x < w; x++)
            {
                var (px, py) = (left + x, top + y);
                if (px < 0 || py < 0 || px >= size || py >= size) continue;
                Blend(pixels, size, px, py, background, White, bytes[y * w + x] / 255.0);
            }
        return pixels;
    }

    // ---------------------------------------------------------------- drawing helpers

    /// <summary>Bits taken from the seed, past its first <paramref name="skip"/> bytes (which choose colours).</summary>
    private static bool[] CellBits(ReadOnlySpan<byte> seed, int count, int skip)
    {
        var bits = new bool[count];
        for (var i = 0; i < count; i++)
        {
            var b = seed[(skip + i / 8) % seed.Length];
            bits[i] = ((b >> (i % 8)) & 1) == 1;
        }
        return bits;
    }

    /// <summary>Cell (col, row) of an n×n grid inside a margin; edges rounded to whole pixels, so cells are crisp at any size.</summary>
    private static void FillCell(byte[] pixels, int size, int margin, int n, int col, int row, Rgb colour)
    {
        var span = size - 2 * margin;
        int Edge(int i) => margin + (int)Math.Round(i * span / (double)n);
        Fill(pixels, size, Edge(col), Edge(row), Edge(col + 1), Edge(row + 1), colour);
    }

    private static void Fill(byte[] pixels, int size, int x0, int y0, int x1, int y1, Rgb c)
    {
        for (var y = y0; y < y1; y++)
            for (var x = x0; x < x1; x++)
            {
                var i = (y * size + x) * 3;
                pixels[i] = c.R;
                pixels[i + 1] = c.G;
                pixels[i + 2] = c.B;
            }
    }

    private static void Blend(byte[] pixels, int size, int x, int y, Rgb under, Rgb over, double alpha)
    {
        var i = (y * size + x) * 3;
        pixels[i] = Mix(under.R, over.R, alpha);
        pixels[i + 1] = Mix(under.G, over.G, alpha);
        pixels[i + 2] = Mix(under.B, over.B, alpha);
    }

    private static byte Mix(byte a, byte b, double t) => (byte)Math.Round(a + (b - a) * t);

    private static double Sq(double v) => v * v;

    private static byte[] Encode(byte[] pixels, int size, int bands, AvatarFormat format)
    {
        using var image = Image.NewFromMemory(pixels, size, size, bands, Enums.BandFormat.Uchar);
        using var srgb = image.Copy(interpretation: Enums.Interpretation.Srgb);
        return format switch
        {
            AvatarFormat.Png => srgb.PngsaveBuffer(compression: 6, keep: Enums.ForeignKeep.None),
            // Flat colours and hard edges: lossless WebP is smaller than lossy here, and exact.
            AvatarFormat.WebP => WebpMetadata.Strip(srgb.WebpsaveBuffer(lossless: true, keep: Enums.ForeignKeep.None)),
            _ => srgb.JpegsaveBuffer(q: 90, optimizeCoding: true, keep: Enums.ForeignKeep.None),
        };
    }

    /// <summary>
    /// A stored picture (a variant or the master: JPEG, PNG or WebP) resized to exactly
    /// <paramref name="size"/>×<paramref name="size"/> and encoded as asked; an alpha channel is laid
    /// on white for JPEG.
    /// </summary>
    public static byte[] Resize(ReadOnlySpan<byte> encoded, int size, AvatarFormat format)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ImagePipeline.EnsureInitialized();
        using var thumb = Image.ThumbnailBuffer(encoded.ToArray(), size, height: size, crop: Enums.Interesting.Centre);
        using var flat = format == AvatarFormat.Jpeg && thumb.HasAlpha() ? thumb.Flatten(background: [255, 255, 255]) : null;
        var image = flat ?? thumb;
        return format switch
        {
            AvatarFormat.Png => image.PngsaveBuffer(compression: 6, keep: Enums.ForeignKeep.None),
            // Effort 2 rather than libwebp's default 4: about half the encode time for a size made on
            // request (the first render of a new size), at nearly the same size (+0.4 % on a 511 px photo).
            AvatarFormat.WebP => WebpMetadata.Strip(image.WebpsaveBuffer(q: 80, effort: 2, keep: Enums.ForeignKeep.None)),
            _ => image.JpegsaveBuffer(q: 85, optimizeCoding: true, keep: Enums.ForeignKeep.None),
        };
    }
}

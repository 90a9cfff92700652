namespace ImagePictures.Api.Pictures;

/// <summary>
/// The one rule for picture titles, checked before any work (upload field and rename): at most 200
/// characters, no control characters but tab, valid Unicode. PostgreSQL refuses NUL, and a title a
/// page shows should not carry escapes or line breaks.
/// </summary>
public static class PictureTitles
{
    public const int MaxLength = 200;

    /// <summary>Null when the title may be stored, else the reason, for a 400 detail.</summary>
    public static string? Problem(string? title)
    {
        if (title is null) return null;
        if (title.Length > MaxLength) return $"The title is longer than {MaxLength} characters.";
        for (var i = 0; i < title.Length; i++)
        {
            var c = title[i];
            if (char.IsControl(c) && c != '\t')
                return $"The title contains a control character (U+{(int)c:X4}) at position {i + 1}; only tab is allowed. Remove it and send the title again.";
            if (char.IsHighSurrogate(c) && i + 1 < title.Length && char.IsLowSurrogate(title[i + 1])) { i++; continue; }
            if (char.IsSurrogate(c)) return $"The title is not valid Unicode (a lone surrogate at position {i + 1}).";
        }
        return null;
    }
}

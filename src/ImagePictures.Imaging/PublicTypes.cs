namespace ImagePictures.Imaging;

public sealed record ImagingOptions
{
    public int[] Sizes { get; init; } = [32, 64, 128, 256, 512];
    public int MasterSize { get; init; } = 512;
    public long MaxPixels { get; init; } = 40_000_000;
    /// <summary>0 = Environment.ProcessorCount.</summary>
    public int MaxConcurrency { get; init; } = 0;
    /// <summary>Waiting jobs allowed beyond the running ones; more => <see cref="ImagingBusyException"/>.</summary>
    public int MaxQueued { get; init; } = 32;
    public int StageMaxSide { get; init; } = 2048;
}

public enum ImageFormat { Jpeg, Png, WebP, Gif, Heif }

public sealed record ImageProbe(ImageFormat Format, int Width, int Height);

public enum RejectionKind
{
    /// <summary>Not an accepted image type (HTTP 415).</summary>
    Unsupported,
    /// <summary>Looks like an accepted type but cannot be decoded (HTTP 422).</summary>
    Undecodable,
    /// <summary>Image dimensions exceed the pixel limit (HTTP 422).</summary>
    TooManyPixels,
}

public sealed class ImageRejectedException : Exception
{
    public RejectionKind Kind { get; }

    public ImageRejectedException(RejectionKind kind, string message) : base(message) => Kind = kind;

    public ImageRejectedException(RejectionKind kind, string message, Exception? inner) : base(message, inner) => Kind = kind;
}

public sealed class ImagingBusyException : Exception
{
    public ImagingBusyException() : base("The image service is busy. Please try again in a few seconds.") { }
    public ImagingBusyException(string message) : base(message) { }
}

public sealed record CropRect(int X, int Y, int Width, int Height);

public sealed record EncodedFile(string FileName, string ContentType, byte[] Bytes);

/// <summary>Files = every variant file (not including the master); Width = Height = MasterSize.</summary>
public sealed record NormalizedPicture(int Width, int Height, bool HasAlpha, EncodedFile Master, IReadOnlyList<EncodedFile> Files);

/// <summary>Image.FileName is "staged.png" (alpha) or "staged.jpg".</summary>
public sealed record StagedImage(int Width, int Height, bool HasAlpha, EncodedFile Image, CropRect SuggestedCrop);

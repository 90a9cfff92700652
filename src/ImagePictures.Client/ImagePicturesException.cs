namespace ImagePictures.Client;

/// <summary>The service answered with an error (RFC 9457 problem details): its status, title and detail.</summary>
public sealed class ImagePicturesException(int status, string title, string? detail, TimeSpan? retryAfter = null)
    : Exception(detail is { Length: > 0 } ? $"{status} {title}: {detail}" : $"{status} {title}")
{
    public int Status { get; } = status;
    public string Title { get; } = title;
    public string? Detail { get; } = detail;

    /// <summary>How long the service asked to wait (429, 503), when it said.</summary>
    public TimeSpan? RetryAfter { get; } = retryAfter;
}

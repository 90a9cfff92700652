namespace ImagePictures.Client;

public sealed class ImagePicturesClientOptions
{
    /// <summary>The service, like https://pictures.example.com: an absolute http:// or https:// address (anything else is an ArgumentException).</summary>
    public Uri? BaseAddress { get; set; }

    /// <summary>
    /// Returns the bearer token for the next request or hub connection; null for none (the hub then
    /// connects anonymously, to watch avatars only). Called before every request, so return a fresh one.
    /// </summary>
    public Func<CancellationToken, ValueTask<string?>>? AccessTokenProvider { get; set; }

    /// <summary>Retry answers 429 and 503 after the Retry-After the service sends (off by default).</summary>
    public bool RetryWhenBusy { get; set; }

    /// <summary>Retries after the first attempt, when <see cref="RetryWhenBusy"/> is on.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>A Retry-After longer than this is not waited for: the error is thrown instead.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);
}

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Polly;
using Polly.Retry;

namespace ImagePictures.Client;

/// <summary>
/// Typed calls for every /api route of ImagePictures. User ids go into the route as given ("me" is
/// the caller); every error answer becomes an <see cref="ImagePicturesException"/>.
/// </summary>
public sealed class ImagePicturesClient
{
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly HttpClient _http;
    private readonly ImagePicturesClientOptions _options;
    private readonly ResiliencePipeline<HttpResponseMessage> _retryWhenBusy;

    /// <param name="http">Its BaseAddress is used unless <see cref="ImagePicturesClientOptions.BaseAddress"/> is set.</param>
    /// <param name="options">Address, token provider and retry; the defaults when null.</param>
    public ImagePicturesClient(HttpClient http, ImagePicturesClientOptions? options = null)
    {
        _http = http;
        _options = options ?? new ImagePicturesClientOptions();
        _retryWhenBusy = RetryWhenBusy(_options);
        var baseAddress = _options.BaseAddress ?? _http.BaseAddress
            ?? throw new ArgumentException("Set ImagePicturesClientOptions.BaseAddress (or the HttpClient's BaseAddress) to the service's address.");
        // Only http(s): the address also becomes the hub's and the avatars' (<img src>) address.
        if (!baseAddress.IsAbsoluteUri || (baseAddress.Scheme != Uri.UriSchemeHttp && baseAddress.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException(
                $"ImagePicturesClientOptions.BaseAddress (or the HttpClient's BaseAddress) must be an absolute http:// or https:// address, " +
                $"like https://pictures.example.com; {(baseAddress.IsAbsoluteUri ? $"'{baseAddress.Scheme}:'" : "a relative address")} is not used.",
                nameof(options));
        // Routes are relative ("api/…"): a base address below a path prefix must end with '/' to keep it.
        _http.BaseAddress = baseAddress.AbsoluteUri.EndsWith('/') ? baseAddress : new Uri(baseAddress.AbsoluteUri + "/");
    }

    public Uri BaseAddress => _http.BaseAddress!;

    // ------------------------------------------------------------------ sign-up and account deletion

    /// <summary>POST /api/users/{userId}/default-picture: the default picture, created the first time, the same one afterwards.</summary>
    public async Task<DefaultPicture> CreateDefaultPictureAsync(string userId, CancellationToken ct = default)
    {
        using var response = await SendAsync(() => new(HttpMethod.Post, $"api/users/{Id(userId)}/default-picture"), ct);
        return new DefaultPicture((await ReadAsync<PictureJson>(response, ct))!, response.StatusCode == HttpStatusCode.Created);
    }

    /// <summary>DELETE /api/users/{userId}: every picture and file of the user; the number of pictures deleted.</summary>
    public async Task<int> DeleteUserAsync(string userId, CancellationToken ct = default) =>
        (await SendAsync<DeletedCount>(() => new(HttpMethod.Delete, $"api/users/{Id(userId)}"), ct)).Deleted;

    // ------------------------------------------------------------------ pictures

    /// <summary>POST /api/users/{userId}/pictures: uploads an image; <paramref name="progress"/> hears the bytes sent.</summary>
    /// <remarks>A retry (see <see cref="ImagePicturesClientOptions.RetryWhenBusy"/>) needs a seekable stream; others are sent once.</remarks>
    public Task<PictureJson> UploadPictureAsync(string userId, Stream image, string fileName, string? title = null, bool activate = false,
        IProgress<UploadProgress>? progress = null, CancellationToken ct = default) =>
        SendAsync<PictureJson>(Upload(image, fileName, title, progress,
            $"api/users/{Id(userId)}/pictures{(activate ? "?activate=true" : "")}"), ct, image.CanSeek);

    public Task<IReadOnlyList<PictureJson>> ListPicturesAsync(string userId, CancellationToken ct = default) =>
        SendAsync<IReadOnlyList<PictureJson>>(() => new(HttpMethod.Get, $"api/users/{Id(userId)}/pictures"), ct);

    public Task<PictureJson> GetPictureAsync(string userId, Guid pictureId, CancellationToken ct = default) =>
        SendAsync<PictureJson>(() => new(HttpMethod.Get, $"api/users/{Id(userId)}/pictures/{pictureId}"), ct);

    /// <summary>PATCH …/pictures/{pictureId}: sets the title; null clears it.</summary>
    public Task<PictureJson> RenamePictureAsync(string userId, Guid pictureId, string? title, CancellationToken ct = default) =>
        SendAsync<PictureJson>(() => new(HttpMethod.Patch, $"api/users/{Id(userId)}/pictures/{pictureId}") { Content = JsonContent.Create(new { title }, options: Json) }, ct);

    /// <summary>GET …/active-picture: the avatar, or null when the user has none.</summary>
    public async Task<PictureJson?> GetActivePictureAsync(string userId, CancellationToken ct = default)
    {
        try { return await SendAsync<PictureJson>(() => new(HttpMethod.Get, $"api/users/{Id(userId)}/active-picture"), ct); }
        catch (ImagePicturesException e) when (e.Status == 404) { return null; }
    }

    public Task<PictureJson> SetActivePictureAsync(string userId, Guid pictureId, CancellationToken ct = default) =>
        SendAsync<PictureJson>(() => new(HttpMethod.Put, $"api/users/{Id(userId)}/active-picture") { Content = JsonContent.Create(new { pictureId }, options: Json) }, ct);

    /// <summary>DELETE …/pictures/{pictureId}: moves it to the trash.</summary>
    public Task<PictureJson> TrashPictureAsync(string userId, Guid pictureId, CancellationToken ct = default) =>
        SendAsync<PictureJson>(() => new(HttpMethod.Delete, $"api/users/{Id(userId)}/pictures/{pictureId}"), ct);

    // ------------------------------------------------------------------ trash

    public Task<IReadOnlyList<PictureJson>> ListTrashAsync(string userId, CancellationToken ct = default) =>
        SendAsync<IReadOnlyList<PictureJson>>(() => new(HttpMethod.Get, $"api/users/{Id(userId)}/trash"), ct);

    public Task<PictureJson> RestorePictureAsync(string userId, Guid pictureId, CancellationToken ct = default) =>
        SendAsync<PictureJson>(() => new(HttpMethod.Post, $"api/users/{Id(userId)}/trash/{pictureId}/restore"), ct);

    /// <summary>DELETE …/trash/{pictureId}: files and row, now.</summary>
    public async Task PurgePictureAsync(string userId, Guid pictureId, CancellationToken ct = default)
    {
        using var _ = await SendAsync(() => new(HttpMethod.Delete, $"api/users/{Id(userId)}/trash/{pictureId}"), ct);
    }

    public Task<CleanupCounts> EmptyTrashAsync(string userId, CancellationToken ct = default) =>
        SendAsync<CleanupCounts>(() => new(HttpMethod.Delete, $"api/users/{Id(userId)}/trash"), ct);

    // ------------------------------------------------------------------ events

    /// <summary>GET …/events?after={seq}&amp;limit={n}: the events after <paramref name="afterSeq"/>, oldest first.</summary>
    public Task<IReadOnlyList<PictureEvent>> GetEventsAsync(string userId, long afterSeq = 0, int? limit = null, CancellationToken ct = default) =>
        SendAsync<IReadOnlyList<PictureEvent>>(() => new(HttpMethod.Get,
            $"api/users/{Id(userId)}/events?after={afterSeq}{(limit is { } l ? $"&limit={l}" : "")}"), ct);

    // ------------------------------------------------------------------ two-step uploads (the caller's own)

    /// <summary>POST /api/uploads: validates and stages an image, to be committed (optionally cropped) later.</summary>
    public Task<StagedUploadJson> StageUploadAsync(Stream image, string fileName, IProgress<UploadProgress>? progress = null, CancellationToken ct = default) =>
        SendAsync<StagedUploadJson>(Upload(image, fileName, null, progress, "api/uploads"), ct, image.CanSeek);

    /// <summary>GET /api/uploads/{id}/preview: the staged image's bytes and content type.</summary>
    public async Task<(byte[] Bytes, string ContentType)> GetUploadPreviewAsync(Guid uploadId, CancellationToken ct = default)
    {
        using var response = await SendAsync(() => new(HttpMethod.Get, $"api/uploads/{uploadId}/preview"), ct);
        return (await response.Content.ReadAsByteArrayAsync(ct), response.Content.Headers.ContentType?.MediaType ?? "application/octet-stream");
    }

    public Task<PictureJson> CommitUploadAsync(Guid uploadId, bool activate = false, CropJson? crop = null, CancellationToken ct = default) =>
        SendAsync<PictureJson>(() => new(HttpMethod.Post, $"api/uploads/{uploadId}/commit") { Content = JsonContent.Create(new CommitRequest(activate, crop), options: Json) }, ct);

    public async Task AbandonUploadAsync(Guid uploadId, CancellationToken ct = default)
    {
        using var _ = await SendAsync(() => new(HttpMethod.Delete, $"api/uploads/{uploadId}"), ct);
    }

    // ------------------------------------------------------------------ admin (role admin)

    public Task<IReadOnlyList<AdminUploadJson>> ListAllStagedUploadsAsync(CancellationToken ct = default) =>
        SendAsync<IReadOnlyList<AdminUploadJson>>(() => new(HttpMethod.Get, "api/admin/uploads"), ct);

    /// <summary>POST /api/admin/uploads/cleanup with one of the actions cleanup-old, delete-session, delete-all (with confirm), list.</summary>
    public Task<CleanupCounts> CleanUpStagedUploadsAsync(string action, int? olderThanHours = null, Guid? uploadId = null, string? confirm = null, CancellationToken ct = default) =>
        SendAsync<CleanupCounts>(() => new(HttpMethod.Post, "api/admin/uploads/cleanup")
        {
            Content = JsonContent.Create(new Dictionary<string, object?>
            {
                ["action"] = action, ["olderThanHours"] = olderThanHours, ["uploadId"] = uploadId, ["confirm"] = confirm,
            }.Where(p => p.Value is not null).ToDictionary(), options: Json),
        }, ct);

    public Task<IReadOnlyList<JobJson>> ListJobsAsync(CancellationToken ct = default) =>
        SendAsync<IReadOnlyList<JobJson>>(() => new(HttpMethod.Get, "api/admin/jobs"), ct);

    public async Task TriggerJobAsync(string name, CancellationToken ct = default)
    {
        using var _ = await SendAsync(() => new(HttpMethod.Post, $"api/admin/jobs/{Id(name)}/trigger"), ct);
    }

    public async Task PauseJobAsync(string name, CancellationToken ct = default)
    {
        using var _ = await SendAsync(() => new(HttpMethod.Post, $"api/admin/jobs/{Id(name)}/pause"), ct);
    }

    public async Task ResumeJobAsync(string name, CancellationToken ct = default)
    {
        using var _ = await SendAsync(() => new(HttpMethod.Post, $"api/admin/jobs/{Id(name)}/resume"), ct);
    }

    public Task<IReadOnlyList<JobRunJson>> ListJobRunsAsync(string name, int limit = 50, CancellationToken ct = default) =>
        SendAsync<IReadOnlyList<JobRunJson>>(() => new(HttpMethod.Get, $"api/admin/jobs/{Id(name)}/runs?limit={limit}"), ct);

    /// <summary>POST /api/admin/webhooks: registers an endpoint for all events, or only <paramref name="eventTypes"/>; the answer holds its signing secret, shown only this once.</summary>
    public Task<CreatedWebhookJson> CreateWebhookAsync(Uri url, IEnumerable<string>? eventTypes = null, CancellationToken ct = default) =>
        SendAsync<CreatedWebhookJson>(() => new(HttpMethod.Post, "api/admin/webhooks")
        {
            Content = JsonContent.Create(new CreateWebhookRequest(url.AbsoluteUri, eventTypes?.ToArray()), options: Json),
        }, ct);

    /// <summary>GET /api/admin/webhooks: every endpoint with its delivery status.</summary>
    public Task<IReadOnlyList<WebhookJson>> ListWebhooksAsync(CancellationToken ct = default) =>
        SendAsync<IReadOnlyList<WebhookJson>>(() => new(HttpMethod.Get, "api/admin/webhooks"), ct);

    public async Task DeleteWebhookAsync(string id, CancellationToken ct = default)
    {
        using var _ = await SendAsync(() => new(HttpMethod.Delete, $"api/admin/webhooks/{Id(id)}"), ct);
    }

    /// <summary>POST /api/admin/webhooks/{id}/enable: a disabled endpoint resumes from where its deliveries stopped.</summary>
    public async Task EnableWebhookAsync(string id, CancellationToken ct = default)
    {
        using var _ = await SendAsync(() => new(HttpMethod.Post, $"api/admin/webhooks/{Id(id)}/enable"), ct);
    }

    // ------------------------------------------------------------------ plumbing

    private sealed record DeletedCount(int Deleted);

    private sealed record Problem(int? Status, string? Title, string? Detail);

    private static string Id(string value) => Uri.EscapeDataString(value);

    internal ValueTask<string?> TokenAsync(CancellationToken ct) =>
        _options.AccessTokenProvider is { } provider ? provider(ct) : ValueTask.FromResult<string?>(null);

    private static Func<HttpRequestMessage> Upload(Stream image, string fileName, string? title, IProgress<UploadProgress>? progress, string path)
    {
        var start = image.CanSeek ? image.Position : 0;
        return () =>
        {
            if (image.CanSeek) image.Position = start;
            var form = new MultipartFormDataContent();
            var file = new ProgressContent(image, progress);
            file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(file, "file", fileName);
            if (title is not null) form.Add(new StringContent(title), "title");
            return new HttpRequestMessage(HttpMethod.Post, path) { Content = form };
        };
    }

    private async Task<T> SendAsync<T>(Func<HttpRequestMessage> request, CancellationToken ct, bool retryable = true)
    {
        using var response = await SendAsync(request, ct, retryable);
        return (await ReadAsync<T>(response, ct))!;
    }

    private static async Task<T?> ReadAsync<T>(HttpResponseMessage response, CancellationToken ct) =>
        await response.Content.ReadFromJsonAsync<T>(Json, ct);

    /// <summary>
    /// Sends (a fresh request and token per attempt, so an upload's seekable stream is rewound and never
    /// sent half-read), retrying 429/503 when asked to; any error answer throws.
    /// </summary>
    private async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> create, CancellationToken ct, bool retryable = true)
    {
        var pipeline = retryable ? _retryWhenBusy : ResiliencePipeline<HttpResponseMessage>.Empty;
        var response = await pipeline.ExecuteAsync(async token =>
        {
            using var request = create();
            if (await TokenAsync(token) is { Length: > 0 } bearer) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
            return await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, token);
        }, ct);
        if (response.IsSuccessStatusCode) return response;
        using (response) throw await ErrorAsync(response, ct);
    }

    /// <summary>
    /// With <see cref="ImagePicturesClientOptions.RetryWhenBusy"/>: 429 and 503 are retried up to MaxRetries times
    /// after their Retry-After, else after 1, 2, 4… s; a wait longer than MaxRetryDelay is not made (the error is
    /// thrown). Nothing else is retried: not other statuses, not exceptions.
    /// </summary>
    private static ResiliencePipeline<HttpResponseMessage> RetryWhenBusy(ImagePicturesClientOptions options)
    {
        if (!options.RetryWhenBusy || options.MaxRetries < 1) return ResiliencePipeline<HttpResponseMessage>.Empty;
        return new ResiliencePipelineBuilder<HttpResponseMessage>().AddRetry(new RetryStrategyOptions<HttpResponseMessage>
        {
            MaxRetryAttempts = options.MaxRetries,
            ShouldHandle = args => ValueTask.FromResult(
                args.Outcome.Result is { StatusCode: HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable } busy
                && Wait(busy, args.AttemptNumber) <= options.MaxRetryDelay),
            DelayGenerator = args => ValueTask.FromResult<TimeSpan?>(Wait(args.Outcome.Result!, args.AttemptNumber)),
        }).Build();

        static TimeSpan Wait(HttpResponseMessage busy, int attempt) => RetryAfter(busy) ?? TimeSpan.FromSeconds(1 << attempt);
    }

    private static TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var retryAfter = response.Headers.RetryAfter is { } r
            ? r.Delta ?? (r.Date is { } date ? date - DateTimeOffset.UtcNow : null)
            : null;
        return retryAfter < TimeSpan.Zero ? TimeSpan.Zero : retryAfter;
    }

    private static async Task<ImagePicturesException> ErrorAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var status = (int)response.StatusCode;
        var retryAfter = RetryAfter(response);
        var body = await response.Content.ReadAsStringAsync(ct);
        Problem? problem = null;
        if (response.Content.Headers.ContentType?.MediaType is "application/problem+json" or "application/json")
        {
            try { problem = JsonSerializer.Deserialize<Problem>(body, Json); }
            catch (JsonException) { }
        }
        var title = problem?.Title ?? response.ReasonPhrase ?? $"HTTP {status}";
        var detail = problem?.Detail ?? (body.Length > 0 ? body[..Math.Min(body.Length, 500)] : null);
        return new ImagePicturesException(status, title, detail, retryAfter);
    }

    /// <summary>A stream body that reports how much of it has been sent.</summary>
    private sealed class ProgressContent(Stream source, IProgress<UploadProgress>? progress) : HttpContent
    {
        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken ct)
        {
            long? total = source.CanSeek ? source.Length - source.Position : null;
            var buffer = new byte[64 * 1024];
            long sent = 0;
            int read;
            while ((read = await source.ReadAsync(buffer, ct)) > 0)
            {
                await stream.WriteAsync(buffer.AsMemory(0, read), ct);
                sent += read;
                progress?.Report(new UploadProgress(sent, total));
            }
        }

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => SerializeToStreamAsync(stream, context, default);

        protected override bool TryComputeLength(out long length)
        {
            length = source.CanSeek ? source.Length - source.Position : 0;
            return source.CanSeek;
        }
    }
}

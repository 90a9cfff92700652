using System.Diagnostics;
using System.Diagnostics.Metrics;
using ImagePictures.Api.Auth;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Uploads;
using ImagePictures.Imaging;

namespace ImagePictures.Api.Operations;

/// <summary>
/// The service's own instruments, on its meter "ImagePictures". One per service instance (a DI singleton
/// over the host's IMeterFactory, which disposes the meter with the host), so two hosts in one process
/// never share or stop each other's instruments (see Telemetry). Names and labels are the documented ones
/// (docs/api.md, Operations); label values are fixed words, never input.
/// </summary>
public sealed class PicturesMetrics
{
    public const string MeterName = "ImagePictures";

    private readonly Counter<long> _uploads;
    private readonly Counter<long> _rejections;
    private readonly Histogram<double> _normalizeDuration;
    private readonly Counter<long> _avatarRequests;
    private readonly Counter<long> _avatarCacheLookups;
    private readonly UpDownCounter<long> _hubConnections;
    private readonly Counter<long> _hubEvents;
    private readonly Counter<long> _jobRuns;
    private readonly Counter<long> _eventsDelivered;
    private readonly Counter<long> _eventSinkFailures;

    public PicturesMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _uploads = meter.CreateCounter<long>("imagepictures.uploads",
            description: "Uploads (one-step and staged) by result: created, rejected (the caller's input), failed (the service).");
        _rejections = meter.CreateCounter<long>("imagepictures.image.rejections",
            description: "Images refused, by reason.");
        _normalizeDuration = meter.CreateHistogram<double>("imagepictures.normalize.duration",
            unit: "s", description: "Decoding and normalising one picture (master and every variant).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
        _avatarRequests = meter.CreateCounter<long>("imagepictures.avatar.requests",
            description: "GET /avatars/{userId} by outcome.");
        _avatarCacheLookups = meter.CreateCounter<long>("imagepictures.avatar.cache.lookups",
            description: "Lookups in the in-memory user → active picture map, hit or miss.");
        _hubConnections = meter.CreateUpDownCounter<long>("imagepictures.hub.connections",
            description: "Open hub connections by kind.");
        _hubEvents = meter.CreateCounter<long>("imagepictures.hub.events",
            description: "Events pushed to the hub's groups, by type.");
        _jobRuns = meter.CreateCounter<long>("imagepictures.job.runs",
            description: "Finished job runs by job and status.");
        _eventsDelivered = meter.CreateCounter<long>("imagepictures.events.delivered",
            description: "Events delivered to other services, by sink.");
        _eventSinkFailures = meter.CreateCounter<long>("imagepictures.events.sink.failures",
            description: "Failed delivery attempts and stopped sink loops, by sink kind (dispatcher: the dispatcher cannot use the database).");
    }

    /// <summary>One call of an upload route: created, rejected (with the reason when the image was refused) or failed.</summary>
    public void Upload(string result, string? rejection = null)
    {
        _uploads.Add(1, Tag("result", result));
        if (rejection is not null) _rejections.Add(1, Tag("reason", rejection));
    }

    /// <summary>Times one normalisation: <c>using (metrics.TimeNormalize()) …</c></summary>
    public NormalizeTimer TimeNormalize() => new(_normalizeDuration, Stopwatch.GetTimestamp());

    public readonly struct NormalizeTimer(Histogram<double> duration, long started) : IDisposable
    {
        public void Dispose() => duration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    /// <summary>One answer of /avatars: picture, default, not_modified or not_found.</summary>
    public void AvatarRequest(string outcome) => _avatarRequests.Add(1, Tag("outcome", outcome));

    public void AvatarCacheLookup(bool hit) => _avatarCacheLookups.Add(1, Tag("result", hit ? "hit" : "miss"));

    private const string HubKindKey = "metrics.kind";

    /// <summary>Counts an accepted connection; <paramref name="items"/> remembers it for <see cref="HubDisconnected"/>.</summary>
    public void HubConnected(IDictionary<object, object?> items, string kind)
    {
        items[HubKindKey] = kind;
        _hubConnections.Add(1, Tag("kind", kind));
    }

    public void HubDisconnected(IDictionary<object, object?> items)
    {
        if (items.Remove(HubKindKey, out var kind) && kind is string k) _hubConnections.Add(-1, Tag("kind", k));
    }

    public void HubEventPushed(string type) => _hubEvents.Add(1, Tag("type", type));

    public void JobRun(string job, string status) => _jobRuns.Add(1, new KeyValuePair<string, object?>("job", job), new("status", status));

    public void EventsDeliveredTo(string sink, int count) => _eventsDelivered.Add(count, Tag("sink", sink));

    public void EventSinkFailed(string sink) => _eventSinkFailures.Add(1, Tag("sink", sink));

    private static KeyValuePair<string, object?> Tag(string name, string value) => new(name, value);
}

public static class UploadMetricsFilter
{
    /// <summary>Counts each call of an upload route by its result, and image rejections by reason.</summary>
    public static TBuilder RecordsUploads<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            var metrics = context.HttpContext.RequestServices.GetRequiredService<PicturesMetrics>();
            try
            {
                var result = await next(context);
                var status = (result as IStatusCodeHttpResult)?.StatusCode ?? 200;
                metrics.Upload(status < 400 ? "created" : status < 500 ? "rejected" : "failed");
                return result;
            }
            catch (Exception e)
            {
                var (result, reason) = e switch
                {
                    ImageRejectedException { Kind: RejectionKind.Unsupported } => ("rejected", "unsupported"),
                    ImageRejectedException { Kind: RejectionKind.TooManyPixels } => ("rejected", "too_many_pixels"),
                    ImageRejectedException => ("rejected", "undecodable"),
                    BadHttpRequestException { StatusCode: 413 } => ("rejected", "too_large"),
                    BadHttpRequestException or QuotaExceededException or StagedUploadLimitException or AccessDeniedException => ("rejected", null),
                    _ => ("failed", (string?)null),
                };
                metrics.Upload(result, reason);
                throw;
            }
        });
}

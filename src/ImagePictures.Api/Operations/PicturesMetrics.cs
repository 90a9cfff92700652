using System.Diagnostics;
using System.Diagnostics.Metrics;
using ImagePictures.Api.Auth;
using ImagePictures.Api.Pictures;
using ImagePictures.Imaging;

namespace ImagePictures.Api.Operations;

/// <summary>
/// The service's own instruments, on the one meter "ImagePictures", created once. Names and labels
/// are the documented ones (docs/api.md, Operations); label values are fixed words, never input.
/// </summary>
public static class PicturesMetrics
{
    public const string MeterName = "ImagePictures";
    private static readonly Meter Meter = new(MeterName);

    private static readonly Counter<long> Uploads = Meter.CreateCounter<long>("imagepictures.uploads",
        description: "Uploads (one-step and staged) by result: created, rejected (the caller's input), failed (the service).");
    private static readonly Counter<long> Rejections = Meter.CreateCounter<long>("imagepictures.image.rejections",
        description: "Images refused, by reason.");
    private static readonly Histogram<double> NormalizeDuration = Meter.CreateHistogram<double>("imagepictures.normalize.duration",
        unit: "s", description: "Decoding and normalising one picture (master and every variant).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30] });
    private static readonly Counter<long> AvatarRequests = Meter.CreateCounter<long>("imagepictures.avatar.requests",
        description: "GET /avatars/{userId} by outcome.");
    private static readonly Counter<long> AvatarCacheLookups = Meter.CreateCounter<long>("imagepictures.avatar.cache.lookups",
        description: "Lookups in the in-memory user → active picture map, hit or miss.");
    private static readonly UpDownCounter<long> HubConnections = Meter.CreateUpDownCounter<long>("imagepictures.hub.connections",
        description: "Open hub connections by kind.");
    private static readonly Counter<long> HubEvents = Meter.CreateCounter<long>("imagepictures.hub.events",
        description: "Events pushed to the hub's groups, by type.");
    private static readonly Counter<long> JobRuns = Meter.CreateCounter<long>("imagepictures.job.runs",
        description: "Finished job runs by job and status.");
    private static readonly Counter<long> EventsDelivered = Meter.CreateCounter<long>("imagepictures.events.delivered",
        description: "Events delivered to other services, by sink.");
    private static readonly Counter<long> EventSinkFailures = Meter.CreateCounter<long>("imagepictures.events.sink.failures",
        description: "Failed delivery attempts and stopped sink loops, by sink kind (dispatcher: the dispatcher cannot use the database).");

    /// <summary>Counts each call of an upload route by its result, and image rejections by reason.</summary>
    public static TBuilder RecordsUploads<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilter(async (context, next) =>
        {
            try
            {
                var result = await next(context);
                var status = (result as IStatusCodeHttpResult)?.StatusCode ?? 200;
                Uploads.Add(1, Tag("result", status < 400 ? "created" : status < 500 ? "rejected" : "failed"));
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
                    BadHttpRequestException or QuotaExceededException or AccessDeniedException => ("rejected", null),
                    _ => ("failed", (string?)null),
                };
                Uploads.Add(1, Tag("result", result));
                if (reason is not null) Rejections.Add(1, Tag("reason", reason));
                throw;
            }
        });

    /// <summary>Times one normalisation: <c>using (PicturesMetrics.TimeNormalize()) …</c></summary>
    public static NormalizeTimer TimeNormalize() => new(Stopwatch.GetTimestamp());

    public readonly struct NormalizeTimer(long started) : IDisposable
    {
        public void Dispose() => NormalizeDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    /// <summary>One answer of /avatars: picture, default, not_modified or not_found.</summary>
    public static void AvatarRequest(string outcome) => AvatarRequests.Add(1, Tag("outcome", outcome));

    public static void AvatarCacheLookup(bool hit) => AvatarCacheLookups.Add(1, Tag("result", hit ? "hit" : "miss"));

    private const string HubKindKey = "metrics.kind";

    /// <summary>Counts an accepted connection; <paramref name="items"/> remembers it for <see cref="HubDisconnected"/>.</summary>
    public static void HubConnected(IDictionary<object, object?> items, string kind)
    {
        items[HubKindKey] = kind;
        HubConnections.Add(1, Tag("kind", kind));
    }

    public static void HubDisconnected(IDictionary<object, object?> items)
    {
        if (items.Remove(HubKindKey, out var kind) && kind is string k) HubConnections.Add(-1, Tag("kind", k));
    }

    public static void HubEventPushed(string type) => HubEvents.Add(1, Tag("type", type));

    public static void JobRun(string job, string status) => JobRuns.Add(1, new KeyValuePair<string, object?>("job", job), new("status", status));

    public static void EventsDeliveredTo(string sink, int count) => EventsDelivered.Add(count, Tag("sink", sink));

    public static void EventSinkFailed(string sink) => EventSinkFailures.Add(1, Tag("sink", sink));

    private static KeyValuePair<string, object?> Tag(string name, string value) => new(name, value);
}

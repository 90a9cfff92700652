using ImagePictures.Dashboard;

namespace ImagePictures.Api.Events;

/// <summary>The admin dashboard's view of the sinks: lag (newest seq minus cursor) and the last error.</summary>
public sealed class EventSinkStatusSource(EventSinkStore store, IEnumerable<IEventSink> sinks) : IEventSinkStatusSource
{
    public async Task<IReadOnlyList<EventSinkView>> GetEventSinksAsync(CancellationToken ct = default) =>
        (await store.StatusAsync(null, ct)).Select(s => new EventSinkView(
            s.Id, s.Kind, sinks.FirstOrDefault(k => k.Kind == s.Kind)?.Target(s) ?? "",
            s.CursorSeq, Math.Max(0, s.NewestSeq - s.CursorSeq), s.Disabled,
            s.FailingSince is { } f ? new DateTimeOffset(DateTime.SpecifyKind(f, DateTimeKind.Utc)) : null, s.LastError)).ToList();
}

namespace ImagePictures.Dashboard;

/// <summary>The seam between the <see cref="EventSinks"/> component and the host's event dispatcher.</summary>
public interface IEventSinkStatusSource
{
    Task<IReadOnlyList<EventSinkView>> GetEventSinksAsync(CancellationToken ct = default);
}

/// <summary>One destination of the event log. Kind: "rabbitmq" | "webhook"; Lag: newest seq minus the sink's cursor.</summary>
public sealed record EventSinkView(string Id, string Kind, string Target, long Cursor, long Lag, bool Disabled, DateTimeOffset? FailingSince, string? LastError);

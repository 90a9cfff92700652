using Bunit;
using ImagePictures.Dashboard;
using Microsoft.Extensions.DependencyInjection;

namespace ImagePictures.Dashboard.Tests;

[Trait("Category", "Unit")]
public class EventSinksTests : BunitContext
{
    private sealed class FakeSource : IEventSinkStatusSource
    {
        public IReadOnlyList<EventSinkView> Sinks { get; set; } = [];
        public Exception? Failure { get; set; }
        public int Calls { get; private set; }

        public Task<IReadOnlyList<EventSinkView>> GetEventSinksAsync(CancellationToken ct = default)
        {
            Calls++;
            return Failure is null ? Task.FromResult(Sinks) : Task.FromException<IReadOnlyList<EventSinkView>>(Failure);
        }
    }

    private readonly FakeSource _source = new();

    public EventSinksTests() => Services.AddSingleton<IEventSinkStatusSource>(_source);

    [Fact]
    public void Shows_each_sinks_lag_state_and_last_error()
    {
        _source.Sinks =
        [
            new EventSinkView("rabbitmq", "rabbitmq", "exchange", 1200, 0, false, null, null),
            new EventSinkView("6f9619ff", "webhook", "https://hooks.example.com/p", 900, 300, false,
                new DateTimeOffset(2026, 12, 1, 6, 0, 0, TimeSpan.Zero), "HTTP 500 Internal Server Error for event 901"),
        ];
        var cut = Render<EventSinks>();

        var rows = cut.FindAll("[data-testid=sink-row]");
        Assert.Equal(["rabbitmq", "6f9619ff"], rows.Select(r => r.GetAttribute("data-sink")));
        Assert.Equal("0", rows[0].QuerySelector("[data-testid=lag]")!.TextContent);
        Assert.Equal("ok", rows[0].QuerySelector("[data-testid=state]")!.TextContent);
        Assert.Equal("300", rows[1].QuerySelector("[data-testid=lag]")!.TextContent);
        Assert.Equal("1,200", rows[0].QuerySelector("[data-testid=cursor]")!.TextContent);
        Assert.Equal("failing since 2026-12-01 06:00:00 UTC", rows[1].QuerySelector("[data-testid=state]")!.TextContent);
        Assert.Equal("HTTP 500 Internal Server Error for event 901", rows[1].QuerySelector("[data-testid=last-error]")!.TextContent);
    }

    [Fact]
    public void Refresh_reloads_and_a_failure_is_a_message()
    {
        var cut = Render<EventSinks>();
        Assert.NotNull(cut.Find("[data-testid=no-sinks]"));

        _source.Failure = new InvalidOperationException("database down");
        cut.Find("[data-testid=refresh-sinks]").Click();

        cut.WaitForAssertion(() => Assert.Contains("database down", cut.Find("[data-testid=error]").TextContent));
        Assert.Equal(2, _source.Calls);
    }
}

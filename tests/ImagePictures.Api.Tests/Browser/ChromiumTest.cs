using Microsoft.Playwright;

namespace ImagePictures.Api.Tests.Browser;

/// <summary>A test class that drives Debian's Chromium (never a downloaded browser), started for the class and closed after it.</summary>
public abstract class ChromiumTest : IAsyncLifetime
{
    private IPlaywright _playwright = null!;

    protected IBrowser Browser { get; private set; } = null!;

    /// <summary>
    /// How long a page may take to show a change pushed over the hub (milliseconds). A deadline, not a
    /// measurement: the elements never poll or reload, so only the push can bring the change, and how
    /// fast it comes is the benchmark's fan-out row. Generous, so that a loaded machine does not fail it.
    /// </summary>
    protected const float PushDeadline = 15_000;

    public async Task InitializeAsync()
    {
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
    }
}

using System.Text.RegularExpressions;
using ImagePictures.Api.Hosting;
using ImagePictures.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace ImagePictures.Api.Tests.Browser;

/// <summary>The service on a real Kestrel socket, so that a real Chromium can load the sample.</summary>
public sealed class BrowserApplication : PicturesApplication
{
    public string BaseUrl { get; private set; } = "";

    protected override void StartHost()
    {
        UseKestrel(0);
        StartServer();
        BaseUrl = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("[::]", "127.0.0.1");
    }
}

/// <summary>
/// Alice and Bob side by side in Debian's Chromium (never a downloaded browser): Bob watches
/// Alice, and every change Alice makes (through the page's &lt;avatar-editor&gt;) shows on Bob's page without a reload.
/// </summary>
[Trait("Category", "Browser")]
public class SampleBrowserTests(BrowserApplication app) : ChromiumTest, IClassFixture<BrowserApplication>
{
    private static readonly string Artifacts = Path.Combine(RepositoryRoot.Find(), "test-artifacts");
    private readonly List<string> _errors = [];

    private async Task<IPage> SignedIn(string userId)
    {
        var context = await Browser.NewContextAsync(new() { BaseURL = app.BaseUrl, ViewportSize = new() { Width = 1100, Height = 900 } });
        var page = await context.NewPageAsync();
        // The one refusal this test provokes on purpose (the SVG upload, 415) is logged by Chromium as a failed resource.
        page.Console += (_, m) => { if (m.Type == "error" && !m.Text.Contains("status of 415")) _errors.Add($"{userId} console: {m.Text}"); };
        page.PageError += (_, e) => _errors.Add($"{userId} page error: {e}");
        await page.GotoAsync("/sample/");
        await page.GetByTestId("user-id").FillAsync(userId);
        await page.GetByTestId("sign-in").ClickAsync();
        await Assertions.Expect(page.GetByTestId("connection-state")).ToHaveTextAsync(new Regex("^connected$"), new() { Timeout = 15000 });
        return page;
    }

    private static async Task<FilePayload> Photo(double[] colour) =>
        await Task.FromResult(new FilePayload { Name = "photo.jpg", MimeType = "image/jpeg", Buffer = TestImages.SolidJpeg(900, 700, colour) });

    private static Task<string?> Src(ILocator img) => img.GetAttributeAsync("src");

    private static async Task<string> ChangedFrom(ILocator img, string? before)
    {
        await Assertions.Expect(img).Not.ToHaveAttributeAsync("src", before ?? "", new() { Timeout = 10000 });
        await img.EvaluateAsync("i => i.complete ? null : new Promise(r => { i.onload = r; i.onerror = r; })");
        Assert.True(await img.EvaluateAsync<bool>("i => i.complete && i.naturalWidth > 0"), "the new image did not load");
        return (await Src(img))!;
    }

    [Fact]
    public async Task BobSeesAlicesAvatarChangeLiveThroughUploadActivateTrashAndRestore()
    {
        var bob = await SignedIn("bob");
        await bob.GetByTestId("watch-input").FillAsync("alice");
        await bob.GetByTestId("watch").ClickAsync();
        // <live-avatar data-testid="watched-avatar">: its picture is the img in its shadow root.
        var watched = bob.Locator("[data-testid='watched-avatar'][data-user-id='alice'] img");
        await Assertions.Expect(watched).ToBeVisibleAsync();
        var src = await Src(watched);

        var alice = await SignedIn("alice");

        // Upload (red): the progress bar shows, the crop is confirmed, and Bob's watched avatar changes and loads.
        await alice.EvaluateAsync("""
            () => { const root = document.querySelector('avatar-editor').shadowRoot; window.sawProgress = false;
                    new MutationObserver(() => { if (root.querySelector('[data-testid=upload-progress]')) window.sawProgress = true; })
                      .observe(root, { childList: true, subtree: true }); }
            """);
        await alice.GetByTestId("upload").SetInputFilesAsync(await Photo(TestImages.Red));
        await alice.GetByTestId("crop-confirm").ClickAsync();
        Assert.True(await alice.EvaluateAsync<bool>("() => window.sawProgress"), "no upload-progress was shown");
        src = await ChangedFrom(watched, src);
        await Assertions.Expect(alice.GetByTestId("picture")).ToHaveCountAsync(1, new() { Timeout = 10000 });

        // A second upload (blue) becomes active too.
        await alice.GetByTestId("upload").SetInputFilesAsync(await Photo(TestImages.Blue));
        await alice.GetByTestId("crop-confirm").ClickAsync();
        src = await ChangedFrom(watched, src);
        await Assertions.Expect(alice.GetByTestId("picture")).ToHaveCountAsync(2, new() { Timeout = 10000 });

        // Activate the older (red) picture.
        var older = alice.Locator("[data-testid='picture'][data-active='false']");
        var olderId = await older.GetAttributeAsync("data-picture-id");
        await older.GetByTestId("activate").ClickAsync();
        src = await ChangedFrom(watched, src);
        await Assertions.Expect(alice.Locator($"[data-testid='picture'][data-picture-id='{olderId}']")).ToHaveAttributeAsync("data-active", "true");

        // Trash the active one: the newest other picture takes over, Bob follows.
        await alice.Locator($"[data-testid='picture'][data-picture-id='{olderId}']").GetByTestId("trash").ClickAsync();
        src = await ChangedFrom(watched, src);
        await alice.GetByTestId("trash-tab").ClickAsync();
        await Assertions.Expect(alice.GetByTestId("trashed-picture")).ToHaveCountAsync(1, new() { Timeout = 10000 });

        // Restore it, then make it active again: Bob follows again.
        await alice.GetByTestId("trashed-picture").GetByTestId("restore").ClickAsync();
        await Assertions.Expect(alice.GetByTestId("trashed-picture")).ToHaveCountAsync(0, new() { Timeout = 10000 });
        await alice.GetByTestId("pictures-tab").ClickAsync();
        await alice.Locator($"[data-testid='picture'][data-picture-id='{olderId}']").GetByTestId("activate").ClickAsync();
        await ChangedFrom(watched, src);

        // A refused file (SVG) shows the server's own message.
        await alice.GetByTestId("upload").SetInputFilesAsync(new FilePayload
        {
            Name = "evil.svg", MimeType = "image/svg+xml",
            Buffer = "<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"u8.ToArray(),
        });
        await Assertions.Expect(alice.GetByTestId("error")).ToContainTextAsync("file type is not supported", new() { Timeout = 10000, IgnoreCase = true });

        Directory.CreateDirectory(Artifacts);
        await alice.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, "sample-alice.png"), FullPage = true });
        await bob.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, "sample-bob.png"), FullPage = true });

        Assert.Empty(_errors);
    }

    [Fact]
    public async Task ThePageWorksAtPhoneWidthWithLabelsAndAltText()
    {
        var context = await Browser.NewContextAsync(new() { BaseURL = app.BaseUrl, ViewportSize = new() { Width = 360, Height = 780 } });
        var page = await context.NewPageAsync();
        page.PageError += (_, e) => _errors.Add($"phone page error: {e}");
        await page.GotoAsync("/sample/");
        // Nothing wider than the screen.
        var width = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
        var overflowing = await page.EvaluateAsync<string>(
            "() => [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 360).map(e => e.tagName + '.' + e.className + '#' + (e.dataset.testid || '')).slice(0, 5).join(', ')");
        Assert.True(width <= 360, $"the page is {width} px wide at a 360 px viewport: {overflowing}");
        Assert.Equal(0, await page.EvaluateAsync<int>("() => [...document.querySelectorAll('img')].filter(i => !i.hasAttribute('alt')).length"));
        Assert.Equal(0, await page.EvaluateAsync<int>(
            "() => [...document.querySelectorAll('input:not([type=hidden])')].filter(i => !(i.labels && i.labels.length) && !i.getAttribute('aria-label')).length"));
        Assert.Empty(_errors);
    }
}

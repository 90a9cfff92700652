using System.Text.RegularExpressions;
using ImagePictures.Api.Hosting;
using Microsoft.Playwright;

namespace ImagePictures.Api.Tests.Browser;

/// <summary>An admin in Debian's Chromium signs in and runs a job from the Hangfire dashboard.</summary>
[Trait("Category", "Browser")]
public class JobsDashboardBrowserTests(BrowserApplication app) : ChromiumTest, IClassFixture<BrowserApplication>
{
    private static readonly string Artifacts = Path.Combine(RepositoryRoot.Find(), "test-artifacts");
    private readonly List<string> _errors = [];

    [Fact]
    public async Task AnAdminSignsInOpensTheRecurringJobsTriggersTempCleanupAndSeesItSucceed()
    {
        var context = await Browser.NewContextAsync(new() { BaseURL = app.BaseUrl, ViewportSize = new() { Width = 1200, Height = 900 } });
        var page = await context.NewPageAsync();
        page.PageError += (_, e) => _errors.Add($"page error: {e}");

        await page.GotoAsync("/hangfire/recurring");
        Assert.EndsWith("/admin/login", page.Url); // a browser without a token is sent to the sign-in form
        await page.Locator("#token").FillAsync(app.Token("ops", roles: ["admin"]));
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        // Polls the URL. WaitForURLAsync(…, Commit) hung when the redirect had already landed before the call:
        // it then waits for a load state, and "commit" is none that fires again (30 s timeout in a fresh-clone run).
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/admin$"), new() { Timeout = 30_000 }); // the next line waits for the page itself
        await Assertions.Expect(page.GetByTestId("jobs-dashboard-link")).ToHaveAttributeAsync("href", "/hangfire");

        await page.GotoAsync("/hangfire/recurring");
        await Assertions.Expect(page).ToHaveTitleAsync(new Regex("ImagePictures jobs"));
        var row = page.Locator("tr.js-jobs-list-row", new() { Has = page.Locator("input[value='temp-cleanup']") });
        await row.Locator("input.js-jobs-list-checkbox").CheckAsync();
        var trigger = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Trigger now" }).ClickAsync(), r => r.Url.EndsWith("/hangfire/recurring/trigger"));
        Assert.True(trigger.Ok, $"Trigger now answered {trigger.Status}");

        // The run shows as Succeeded in the dashboard (the succeeded list is reloaded until it is there).
        // The dashboard reloads its page after the trigger, which may abort a navigation started meanwhile.
        var succeeded = page.Locator("tr.js-jobs-list-row", new() { HasText = "temp-cleanup" });
        await Eventually(async () =>
        {
            try { await page.GotoAsync("/hangfire/jobs/succeeded"); }
            catch (PlaywrightException) { return false; } // the dashboard's own reload aborted this navigation
            return await succeeded.CountAsync() > 0;
        }, "the triggered run in the dashboard's succeeded list");
        await Assertions.Expect(succeeded.First).ToBeVisibleAsync();
        await succeeded.First.Locator("a").First.ClickAsync();
        await Assertions.Expect(page.Locator(".state-card", new() { HasText = "Succeeded" }).First).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("body")).ToContainTextAsync("Found");

        Directory.CreateDirectory(Artifacts);
        await page.ScreenshotAsync(new() { Path = Path.Combine(Artifacts, "hangfire-job.png"), FullPage = true });
        Assert.Empty(_errors);
    }
}

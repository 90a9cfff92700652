using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Tests.Infrastructure;
using ImagePictures.Api.Tests.Realtime;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace ImagePictures.Api.Tests.Browser;

/// <summary>A page of another origin that embeds /client/live-avatar.js as a site would.</summary>
public sealed class LiveAvatarApplication : SecondOriginApplication
{
    protected override void MapSite(WebApplication site) =>
        site.MapGet("/", () => Results.Content(Page(BaseUrl), "text/html; charset=utf-8"));

    private static string Page(string service) => $$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>A site with live avatars</title>
        <script src="{{service}}/client/live-avatar.js"></script></head>
        <body>
          <live-avatar id="alice-small" user-id="la-alice" size="64" alt="Alice"></live-avatar>
          <live-avatar id="alice-large" user-id="la-alice" size="128" alt="Alice, large"></live-avatar>
          <live-avatar id="bob" user-id="la-bob" size="64" alt="Bob"></live-avatar>
          <script>
            window.changes = [];
            document.addEventListener('change', (e) => window.changes.push({ id: e.target.id, pictureId: e.detail.picture && e.detail.picture.id }));
          </script>
        </body></html>
        """;
}

/// <summary>
/// Three &lt;live-avatar&gt; elements of two users on a page of another origin, without any token, in
/// Debian's Chromium: they follow avatar changes over one shared hub connection, also after the
/// server dropped it.
/// </summary>
[Trait("Category", "Browser")]
public class LiveAvatarBrowserTests(LiveAvatarApplication app) : ChromiumTest, IClassFixture<LiveAvatarApplication>
{

    [Fact]
    public async Task ElementsOfAnotherOriginFollowActivationsOverOneConnectionAlsoAfterADrop()
    {
        var before = await app.UploadAsync("la-bob", TestImages.Blue);
        await app.ActivateAsync("la-bob", before.Id);

        var page = await (await Browser.NewContextAsync()).NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") errors.Add($"console: {m.Text}"); };
        page.PageError += (_, e) => errors.Add($"page error: {e}");
        var sockets = new List<IWebSocket>();
        var watchCalls = new ConcurrentQueue<string>();
        var completions = 0;
        page.WebSocket += (_, ws) =>
        {
            lock (sockets) sockets.Add(ws);
            ws.FrameSent += (_, f) => { if (f.Text?.Contains("\"target\":\"Watch\"") == true) watchCalls.Enqueue(f.Text); };
            ws.FrameReceived += (_, f) => { if (f.Text?.Contains("\"type\":3") == true) Interlocked.Increment(ref completions); };
        };

        await page.GotoAsync(app.SiteUrl);
        Assert.StartsWith("http://127.0.0.1:", app.SiteUrl);
        Assert.NotEqual(new Uri(app.SiteUrl).Port, new Uri(app.BaseUrl).Port); // another origin

        var aliceSmall = page.Locator("#alice-small img");
        var aliceLarge = page.Locator("#alice-large img");
        var bob = page.Locator("#bob img");
        foreach (var img in new[] { aliceSmall, aliceLarge, bob }) Assert.True(await SecondOriginApplication.LoadedAsync(img), "an avatar did not load");

        // The element's own shape: an <img part="img"> in an open shadow root, sized, with the alt text.
        Assert.Equal("img", await aliceLarge.GetAttributeAsync("part"));
        Assert.Equal("128", await aliceLarge.GetAttributeAsync("width"));
        Assert.Equal("128", await aliceLarge.GetAttributeAsync("height"));
        Assert.Equal("Alice, large", await aliceLarge.GetAttributeAsync("alt"));
        Assert.True(await page.EvaluateAsync<bool>("() => document.querySelector('#bob').shadowRoot.querySelector('img') !== null"));
        Assert.StartsWith($"{app.BaseUrl}/avatars/la-alice?size=128&v=", await aliceLarge.GetAttributeAsync("src"));

        // One Watch for both users of the three elements, answered.
        await Eventually(() => watchCalls.Count >= 1 && Volatile.Read(ref completions) >= 1, "the elements never watched");
        Assert.Single(watchCalls);
        Assert.Contains("\"la-alice\"", watchCalls.Single());
        Assert.Contains("\"la-bob\"", watchCalls.Single());

        // Alice activates a new picture: both of her elements show it, loaded; Bob's stays.
        var bobSrc = await bob.GetAttributeAsync("src");
        var red = await app.UploadAsync("la-alice", TestImages.Red);
        await app.ActivateAsync("la-alice", red.Id);
        var version = $"v={red.ContentHash[..16]}";
        await Assertions.Expect(aliceSmall).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex(version), new() { Timeout = PushDeadline });
        await Assertions.Expect(aliceLarge).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex(version), new() { Timeout = PushDeadline });
        Assert.True(await SecondOriginApplication.LoadedAsync(aliceSmall));
        Assert.True(await SecondOriginApplication.LoadedAsync(aliceLarge));
        Assert.True(await aliceLarge.EvaluateAsync<int>("i => i.naturalWidth") >= 128);
        // One hub message updates every element it concerns at once: Alice's have changed, so Bob's would have.
        Assert.Equal(bobSrc, await bob.GetAttributeAsync("src"));
        var changes = await page.EvaluateAsync<Change[]>("() => window.changes");
        Assert.Equal(["alice-large", "alice-small"], changes.Select(c => c.Id).Order());
        Assert.All(changes, c => Assert.Equal(red.Id.ToString(), c.PictureId));

        // One hub connection for the whole page.
        Assert.Single(sockets);

        // The server drops it: the page reconnects, watches again, and the next change still arrives.
        Assert.Equal(1, app.DropHubConnections());
        await Eventually(() => watchCalls.Count >= 2 && Volatile.Read(ref completions) >= 2, "the elements did not watch again after the drop");
        var green = await app.UploadAsync("la-bob", TestImages.Green);
        await app.ActivateAsync("la-bob", green.Id);
        await Assertions.Expect(bob).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex($"v={green.ContentHash[..16]}"), new() { Timeout = 5000 });
        Assert.True(await SecondOriginApplication.LoadedAsync(bob));
        Assert.Equal(2, sockets.Count);

        // A deleted account: its elements show the default image.
        Assert.Equal(HttpStatusCode.OK, (await app.Api("la-bob").DeleteAsync("/api/users/la-bob")).StatusCode);
        await Assertions.Expect(bob).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex("v=d"), new() { Timeout = 5000 });
        Assert.True(await SecondOriginApplication.LoadedAsync(bob));

        Assert.Empty(errors);
    }

    [Fact]
    public async Task ElementsAddedLaterWatchAndRemovedOnesUnwatch()
    {
        var page = await (await Browser.NewContextAsync()).NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") errors.Add($"console: {m.Text}"); };
        var sent = new ConcurrentQueue<string>();
        page.WebSocket += (_, ws) => ws.FrameSent += (_, f) => { if (f.Text is { } t && (t.Contains("\"target\":\"Watch\"") || t.Contains("\"target\":\"Unwatch\""))) sent.Enqueue(t); };
        await page.GotoAsync(app.SiteUrl);
        await Eventually(() => sent.Count >= 1, "the page never watched");

        await page.EvaluateAsync("() => { const a = document.createElement('live-avatar'); a.id = 'carol'; a.setAttribute('user-id', 'la-carol'); document.body.append(a); }");
        await Eventually(() => sent.Any(t => t.Contains("\"Watch\"") && t.Contains("la-carol")), "a new element did not watch");
        await page.EvaluateAsync("() => document.querySelector('#carol').remove()");
        await Eventually(() => sent.Any(t => t.Contains("\"Unwatch\"") && t.Contains("la-carol")), "a removed element did not unwatch");
        // Alice still has an element: she stays watched. Removals are handled in order, so once a later
        // removal's Unwatch (Dora's, her only element) has been sent, Alice's removal has been handled.
        await page.EvaluateAsync("() => { const a = document.createElement('live-avatar'); a.id = 'dora'; a.setAttribute('user-id', 'la-dora'); document.body.append(a); }");
        await Eventually(() => sent.Any(t => t.Contains("\"Watch\"") && t.Contains("la-dora")), "a new element did not watch");
        await page.EvaluateAsync("() => document.querySelector('#alice-small').remove()");
        await page.EvaluateAsync("() => document.querySelector('#dora').remove()");
        await Eventually(() => sent.Any(t => t.Contains("\"Unwatch\"") && t.Contains("la-dora")), "a removed element did not unwatch");
        Assert.DoesNotContain(sent, t => t.Contains("\"Unwatch\"") && t.Contains("la-alice"));
        Assert.Empty(errors);
    }

    [Fact]
    public async Task TheAdminDashboardShowsStagedUploadsUsersAsLiveAvatars()
    {
        using var stage = await app.Api("la-dana").PostAsync("/api/uploads", TestUploads.Form(TestUploads.DefaultPng()));
        Assert.Equal(HttpStatusCode.Created, stage.StatusCode);

        var page = await (await Browser.NewContextAsync(new() { BaseURL = app.BaseUrl })).NewPageAsync();
        var errors = new List<string>();
        page.PageError += (_, e) => errors.Add($"page error: {e}");
        await page.GotoAsync("/admin/login");
        await page.Locator("#token").FillAsync(app.Token("la-ops", roles: ["admin"]));
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        // Polls the URL: WaitForURLAsync then waits for a load state, which never came again when the redirect had
        // already landed (a 30 s timeout in a fresh-clone run, as in JobsDashboardBrowserTests).
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/admin$"), new() { Timeout = 30_000 });
        var avatar = page.Locator("[data-testid='upload-row'] img[data-user-id='la-dana']");
        await Assertions.Expect(avatar).ToBeVisibleAsync();
        Assert.True(await SecondOriginApplication.LoadedAsync(avatar));

        // Once the interactive circuit is up the component watches (data-live); then Dana's activation changes the avatar in place.
        await Assertions.Expect(avatar).ToHaveAttributeAsync("data-live", "watching", new() { Timeout = PushDeadline });
        var picture = await app.UploadAsync("la-dana", TestImages.Red);
        await app.ActivateAsync("la-dana", picture.Id);
        await Assertions.Expect(avatar).ToHaveAttributeAsync("src", new System.Text.RegularExpressions.Regex($"v={picture.ContentHash[..16]}"), new() { Timeout = PushDeadline });
        Assert.True(await SecondOriginApplication.LoadedAsync(avatar));
        Assert.Empty(errors);
    }

    [Fact]
    public async Task ABaseUrlThatIsNotHttpOrHttpsIsIgnoredWithAWarning()
    {
        var page = await (await Browser.NewContextAsync()).NewPageAsync();
        var warnings = new ConcurrentQueue<string>();
        page.Console += (_, m) => { if (m.Type == "warning") warnings.Enqueue(m.Text); };
        var sockets = new ConcurrentQueue<string>();
        page.WebSocket += (_, ws) => sockets.Enqueue(ws.Url);
        await page.GotoAsync(app.SiteUrl);

        string[] bad = ["javascript:alert(document.domain)//", "data:text/html,<b>x</b>", "ftp://127.0.0.1/", "http://[bad"];
        for (var i = 0; i < bad.Length; i++)
            await page.EvaluateAsync("([id, base]) => { const a = document.createElement('live-avatar'); a.id = id; a.setAttribute('base-url', base); a.setAttribute('user-id', 'la-erin'); document.body.append(a); }",
                new[] { $"bad{i}", bad[i] });

        for (var i = 0; i < bad.Length; i++)
        {
            var img = page.Locator($"#bad{i} img");
            // The script's own origin instead: the service this page loaded live-avatar.js from.
            Assert.StartsWith($"{app.BaseUrl}/avatars/la-erin?", await img.GetAttributeAsync("src"));
            Assert.True(await SecondOriginApplication.LoadedAsync(img), $"the avatar with base-url {bad[i]} did not load from the script's origin");
            Assert.Contains(warnings, w => w.Contains("base-url ignored") && w.Contains(bad[i]));
        }
        var hubSocket = $"{app.BaseUrl.Replace("http://", "ws://")}/hubs/pictures";
        await Eventually(() => !sockets.IsEmpty, "the elements never opened the hub connection");
        Assert.All(sockets, url => Assert.StartsWith(hubSocket, url));
    }

    [Fact]
    public async Task AnElementWithAnEmailHashShowsTheHashRouteAndFollowsItWithoutLearningTheUser()
    {
        const string email = "la-hank@example.com";
        var md5 = Gravatar.GravatarTests.Md5(email);
        Assert.Equal(HttpStatusCode.OK, (await app.Api("la-hank").PutAsJsonAsync("/api/users/la-hank/emails", new { emails = new[] { email } })).StatusCode);
        var first = await app.UploadAsync("la-hank", TestImages.Blue);
        await app.ActivateAsync("la-hank", first.Id);

        var page = await (await Browser.NewContextAsync()).NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") errors.Add($"console: {m.Text}"); };
        page.PageError += (_, e) => errors.Add($"page error: {e}");
        var sent = new ConcurrentQueue<string>();
        var received = new ConcurrentQueue<string>();
        page.WebSocket += (_, ws) =>
        {
            ws.FrameSent += (_, f) => { if (f.Text is { } t) sent.Enqueue(t); };
            ws.FrameReceived += (_, f) => { if (f.Text is { } t) received.Enqueue(t); };
        };
        await page.GotoAsync(app.SiteUrl);
        await page.EvaluateAsync("(hash) => { const a = document.createElement('live-avatar'); a.id = 'hank'; a.setAttribute('email-hash', hash.toUpperCase()); a.setAttribute('size', '48'); document.body.append(a); }", md5);

        var img = page.Locator("#hank img");
        Assert.StartsWith($"{app.BaseUrl}/avatar/{md5}?s=48&v=", await img.GetAttributeAsync("src"));
        Assert.True(await SecondOriginApplication.LoadedAsync(img), "the avatar by hash did not load");
        await Eventually(() => sent.Any(t => t.Contains("\"target\":\"WatchHashes\"") && t.Contains(md5)), "the element never watched its hash");

        var second = await app.UploadAsync("la-hank", TestImages.Red);
        await app.ActivateAsync("la-hank", second.Id);
        await Assertions.Expect(img).ToHaveAttributeAsync("src", $"{app.BaseUrl}/avatar/{md5}?s=48&v={second.ContentHash[..16]}");
        Assert.True(await SecondOriginApplication.LoadedAsync(img));
        // The page heard the change by its hash only.
        Assert.Contains(received, t => t.Contains("ActivePictureChanged") && t.Contains(md5));
        Assert.DoesNotContain(received, t => t.Contains("la-hank"));
        Assert.Empty(errors);
    }

    private sealed class Change
    {
        public string Id { get; set; } = "";
        public string? PictureId { get; set; }
    }
}

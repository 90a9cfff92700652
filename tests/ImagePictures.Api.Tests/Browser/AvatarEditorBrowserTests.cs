using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using ImagePictures.Api.Hosting;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Playwright;
using NetVips;

namespace ImagePictures.Api.Tests.Browser;

/// <summary>
/// A site on another origin embedding /client/avatar-editor.js and /client/live-avatar.js as a team would:
/// its own backend hands out the user's token (here: minted by the test host).
/// </summary>
public sealed class AvatarEditorApplication : SecondOriginApplication
{
    public const int MaxPictures = 6;

    public AvatarEditorApplication() => With("Pictures:MaxPicturesPerUser", MaxPictures.ToString());

    protected override void MapSite(WebApplication site)
    {
        site.MapGet("/token", (string user) => Results.Text(Token(user)));
        site.MapGet("/editor", (string user) => Results.Content(EditorPage(BaseUrl, user), "text/html; charset=utf-8"));
        site.MapGet("/avatar", (string user) => Results.Content(AvatarPage(BaseUrl, user), "text/html; charset=utf-8"));
    }

    private static string EditorPage(string service, string user) => $$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Change your avatar</title>
        <script type="module" src="{{service}}/client/avatar-editor.js"></script></head>
        <body><main>
          <h1>Change your avatar</h1>
          <avatar-editor service="{{service}}" user-id="{{user}}"></avatar-editor>
        </main>
        <script>
          const editor = document.querySelector('avatar-editor');
          editor.tokenProvider = async () => (await fetch('/token?user={{user}}')).text();
          window.editorEvents = [];
          for (const type of ['change', 'upload', 'error', 'close'])
            editor.addEventListener(type, (e) => window.editorEvents.push({ type, detail: JSON.stringify(e.detail ?? null) }));
        </script></body></html>
        """;

    private static string AvatarPage(string service, string user) => $$"""
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>Someone's avatar</title>
        <script src="{{service}}/client/live-avatar.js"></script></head>
        <body><live-avatar user-id="{{user}}" size="64" alt="Avatar"></live-avatar></body></html>
        """;

    public async Task<int> StagedUploadsAsync(string userId)
    {
        var uploads = await Api("ae-admin", ["admin"]).GetFromJsonAsync<JsonElement[]>("/api/admin/uploads");
        return uploads!.Count(u => u.GetProperty("userId").GetString() == userId);
    }
}

/// <summary>
/// &lt;avatar-editor&gt; on another origin in Debian's Chromium against the real service: upload with a crop,
/// cancel, the picture actions seen live by other pages, refusals in the service's words, a dropped upload
/// retried, the keyboard alone, and axe-core's accessibility rules in light and dark.
/// </summary>
[Trait("Category", "Browser")]
public class AvatarEditorBrowserTests(AvatarEditorApplication app) : ChromiumTest, IClassFixture<AvatarEditorApplication>
{
    private static readonly string Artifacts = Path.Combine(RepositoryRoot.Find(), "test-artifacts");

    private async Task<IPage> OpenEditorAsync(string userId, List<string>? errors = null)
    {
        var page = await (await Browser.NewContextAsync()).NewPageAsync();
        if (errors is not null)
        {
            page.PageError += (_, e) => errors.Add($"page error: {e}");
            page.Console += (_, m) => { if (m.Type == "error") errors.Add($"console: {m.Text}"); };
            page.Response += (_, r) => { if (r.Status >= 400) errors.Add($"{r.Status} {r.Request.Method} {r.Url}"); };
        }
        await page.GotoAsync($"{app.SiteUrl}/editor?user={userId}");
        await Assertions.Expect(page.Locator("avatar-editor [data-testid=choose]")).ToBeVisibleAsync();
        return page;
    }

    private static ILocator Picture(IPage page, Guid id) => page.Locator($"avatar-editor [data-testid=picture][data-picture-id='{id}']");
    private static ILocator TestId(IPage page, string testId) => page.Locator($"avatar-editor [data-testid={testId}]");

    /// <summary>An 800x400 image whose red grows left to right and green top to bottom: every region looks different.</summary>
    private static byte[] Gradient()
    {
        using var xyz = Image.Xyz(800, 400);
        using var x = xyz[0];
        using var y = xyz[1];
        using var r = x * (255.0 / 799);
        using var g = y * (255.0 / 399);
        using var b = (x * 0) + 128;
        using var rgb = r.Bandjoin(g, b);
        using var cast = rgb.Cast(Enums.BandFormat.Uchar);
        using var srgb = cast.Copy(interpretation: Enums.Interpretation.Srgb);
        return srgb.PngsaveBuffer();
    }

    private async Task<string?> FocusedAsync(IPage page) =>
        await page.EvaluateAsync<string?>("() => { const a = document.querySelector('avatar-editor').shadowRoot.activeElement; return a ? (a.dataset.testid || '') + '|' + (a.closest('[data-picture-id]')?.dataset.pictureId || '') : null; }");

    private async Task TabToAsync(IPage page, string testId, Guid? pictureId = null)
    {
        var want = $"{testId}|{pictureId?.ToString() ?? ""}";
        for (var i = 0; i < 30; i++)
        {
            if (await FocusedAsync(page) == want) return;
            await page.Keyboard.PressAsync("Tab");
        }
        Assert.Fail($"Tab never reached {want}");
    }

    [Fact]
    public async Task KeyboardAloneUploadsTheChosenCropAndSetsTheAvatar()
    {
        const string user = "ae-keys";
        var other = await app.UploadAsync(user, TestImages.Blue);
        var errors = new List<string>();
        var page = await OpenEditorAsync(user, errors);
        await Assertions.Expect(Picture(page, other.Id)).ToBeVisibleAsync();

        // Choose a file: the keyboard presses the editor's button, which opens the file chooser.
        await TabToAsync(page, "choose");
        var source = Gradient();
        var stagedResponse = page.WaitForResponseAsync(r => r.Url.EndsWith("/api/uploads") && r.Request.Method == "POST");
        // Enter on the focused button opens the file input (seen by a click listener); the test then fills that input.
        await page.EvaluateAsync("() => { window.fileInputOpened = false; document.querySelector('avatar-editor').shadowRoot.querySelector('[data-testid=file-input]').addEventListener('click', () => window.fileInputOpened = true); }");
        await page.Keyboard.PressAsync("Enter");
        Assert.True(await page.EvaluateAsync<bool>("() => window.fileInputOpened"), "Enter on the choose button did not open the file input");
        await TestId(page, "file-input").SetInputFilesAsync(new FilePayload { Name = "gradient.png", MimeType = "image/png", Buffer = source });
        var staged = await (await stagedResponse).JsonAsync();
        var suggested = staged!.Value.GetProperty("suggestedCrop");
        Assert.Equal(400, suggested.GetProperty("width").GetInt32()); // the whole height: the largest square

        // The cropper takes the focus; the arrows move the square to the end away from the service's suggestion.
        await Assertions.Expect(TestId(page, "crop-area")).ToBeFocusedAsync();
        var toLeft = suggested.GetProperty("x").GetInt32() >= 200;
        for (var i = 0; i < 120; i++) await page.Keyboard.PressAsync(toLeft ? "Shift+ArrowLeft" : "Shift+ArrowRight");
        await TabToAsync(page, "crop-confirm");
        var created = page.WaitForResponseAsync(r => r.Url.EndsWith("/commit") && r.Status == 201);
        await page.Keyboard.PressAsync("Enter");
        var picture = (await (await created).JsonAsync())!.Value.Deserialize<PictureJson>(new JsonSerializerOptions(JsonSerializerDefaults.Web))!;
        await Assertions.Expect(Picture(page, picture.Id)).ToHaveAttributeAsync("data-active", "true");

        // The committed master is that region of the source: compare pixels, not what was sent.
        var expectedX = toLeft ? 0 : 400;
        using var api = new HttpClient();
        api.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("image/png"));
        var master = await api.GetByteArrayAsync($"{app.BaseUrl}{picture.Urls["512"]}");
        using var masterImage = TestImages.Decode(master);
        using var sourceImage = TestImages.Decode(source);
        Assert.Equal(512, masterImage.Width);
        foreach (var (mx, my) in new[] { (20, 20), (256, 256), (490, 30), (30, 490), (490, 490), (128, 384) })
        {
            var sx = expectedX + (int)((mx + 0.5) * 400 / 512);
            var sy = (int)((my + 0.5) * 400 / 512);
            var want = TestImages.Pixel(sourceImage, sx, sy);
            var got = TestImages.Pixel(masterImage, mx, my);
            Assert.True(Math.Abs(want[0] - got[0]) <= 12 && Math.Abs(want[1] - got[1]) <= 12,
                $"master ({mx},{my}) is {string.Join(",", got)}, the source at ({sx},{sy}) is {string.Join(",", want)}");
        }

        // Set the other picture active with the keyboard.
        await TabToAsync(page, "activate", other.Id);
        await page.Keyboard.PressAsync("Enter");
        await Assertions.Expect(Picture(page, other.Id)).ToHaveAttributeAsync("data-active", "true");
        var active = await app.Api(user).GetFromJsonAsync<PictureJson>($"/api/users/{user}/active-picture");
        Assert.Equal(other.Id, active!.Id);
        Assert.Empty(errors);
    }

    [Fact]
    public async Task CancelDeletesTheStagedUpload()
    {
        const string user = "ae-cancel";
        var page = await OpenEditorAsync(user);
        await TestId(page, "file-input").SetInputFilesAsync(new FilePayload { Name = "red.jpg", MimeType = "image/jpeg", Buffer = TestImages.SolidJpeg(300, 200, TestImages.Red) });
        await Assertions.Expect(TestId(page, "crop-confirm")).ToBeVisibleAsync();
        Assert.Equal(1, await app.StagedUploadsAsync(user));

        var deleted = page.WaitForResponseAsync(r => r.Request.Method == "DELETE" && r.Url.Contains("/api/uploads/"));
        await TestId(page, "crop-cancel").ClickAsync();
        Assert.Equal(204, (await deleted).Status);
        Assert.Equal(0, await app.StagedUploadsAsync(user));
        await Assertions.Expect(TestId(page, "crop-confirm")).ToHaveCountAsync(0);
        Assert.Empty(await app.Api(user).GetFromJsonAsync<PictureJson[]>($"/api/users/{user}/pictures") ?? []);
    }

    [Fact]
    public async Task EveryActionIsSeenLiveByALiveAvatarAndAnotherEditor()
    {
        const string user = "ae-live";
        var first = await app.UploadAsync(user, TestImages.Blue);
        await app.ActivateAsync(user, first.Id);
        var second = await app.UploadAsync(user, TestImages.Green);

        var editor = await OpenEditorAsync(user);
        var avatarPage = await (await Browser.NewContextAsync()).NewPageAsync();
        await avatarPage.GotoAsync($"{app.SiteUrl}/avatar?user={user}");
        var avatar = avatarPage.Locator("live-avatar img");
        Assert.True(await SecondOriginApplication.LoadedAsync(avatar));
        var watcher = await OpenEditorAsync(user);
        await Assertions.Expect(Picture(watcher, second.Id)).ToBeVisibleAsync();
        // Both editors are connected to the hub before anything changes.
        foreach (var page in new[] { editor, watcher })
            await page.WaitForFunctionAsync("() => document.querySelector('avatar-editor').hub?.state === 'Connected'");
        var within = new LocatorAssertionsToHaveAttributeOptions { Timeout = PushDeadline };

        // Set active.
        await Picture(editor, second.Id).Locator("[data-testid=activate]").ClickAsync();
        await Assertions.Expect(avatar).ToHaveAttributeAsync("src", new Regex($"v={second.ContentHash[..16]}"), within);
        await Assertions.Expect(Picture(watcher, second.Id)).ToHaveAttributeAsync("data-active", "true", within);

        // Rename.
        await Picture(editor, second.Id).Locator("[data-testid=rename]").ClickAsync();
        await Picture(editor, second.Id).Locator("[data-testid=rename-input]").FillAsync("Beach, 2026");
        await Picture(editor, second.Id).Locator("[data-testid=rename-save]").ClickAsync();
        await Assertions.Expect(Picture(watcher, second.Id)).ToContainTextAsync("Beach, 2026", new() { Timeout = PushDeadline });

        // Trash the active one: the other becomes the avatar.
        await Picture(editor, second.Id).Locator("[data-testid=trash]").ClickAsync();
        await Assertions.Expect(avatar).ToHaveAttributeAsync("src", new Regex($"v={first.ContentHash[..16]}"), within);
        await Assertions.Expect(Picture(watcher, second.Id)).ToHaveCountAsync(0, new() { Timeout = PushDeadline });
        await Assertions.Expect(TestId(watcher, "trash-tab")).ToContainTextAsync("(1)", new() { Timeout = PushDeadline });

        // Restore, then set it active again (the live avatar follows), then trash and empty the trash.
        await TestId(editor, "trash-tab").ClickAsync();
        await editor.Locator($"avatar-editor [data-testid=trashed-picture][data-picture-id='{second.Id}'] [data-testid=restore]").ClickAsync();
        await Assertions.Expect(Picture(watcher, second.Id)).ToBeVisibleAsync(new() { Timeout = PushDeadline });
        await TestId(editor, "pictures-tab").ClickAsync();
        await Picture(editor, second.Id).Locator("[data-testid=activate]").ClickAsync();
        await Assertions.Expect(avatar).ToHaveAttributeAsync("src", new Regex($"v={second.ContentHash[..16]}"), within);

        await Picture(editor, first.Id).Locator("[data-testid=trash]").ClickAsync();
        await Assertions.Expect(TestId(watcher, "trash-tab")).ToContainTextAsync("(1)", new() { Timeout = PushDeadline });
        await TestId(editor, "trash-tab").ClickAsync();
        await TestId(editor, "empty-trash").ClickAsync();
        // Nothing is destroyed before the confirmation.
        Assert.Single(await app.Api(user).GetFromJsonAsync<PictureJson[]>($"/api/users/{user}/trash") ?? []);
        await TestId(editor, "confirm").ClickAsync();
        await Assertions.Expect(TestId(watcher, "trash-tab")).ToContainTextAsync("(0)", new() { Timeout = PushDeadline });
        Assert.Empty(await app.Api(user).GetFromJsonAsync<PictureJson[]>($"/api/users/{user}/trash") ?? []);
        await Assertions.Expect(TestId(watcher, "quota")).ToHaveTextAsync($"1 of 100");
    }

    [Fact]
    public async Task APictureUploadedThroughTheApiAppearsInAnOpenEditor()
    {
        const string user = "ae-api";
        var page = await OpenEditorAsync(user);
        await page.WaitForFunctionAsync("() => document.querySelector('avatar-editor').hub?.state === 'Connected'");
        await Assertions.Expect(TestId(page, "no-pictures")).ToBeVisibleAsync();
        var picture = await app.UploadAsync(user, TestImages.Red);
        await Assertions.Expect(Picture(page, picture.Id)).ToBeVisibleAsync();
        var events = await EditorEventsAsync(page, "change");
        Assert.Contains(events, e => e.Contains("PictureUploaded"));
    }

    [Fact]
    public async Task AfterALostConnectionItOffersReconnectAndCatchesUpWithWhatItMissed()
    {
        const string user = "ae-gap";
        var page = await OpenEditorAsync(user);
        var editor = page.Locator("avatar-editor");
        await Assertions.Expect(editor).ToHaveAttributeAsync("connection", "connected");
        var seen = await app.UploadAsync(user, TestImages.Blue);
        await Assertions.Expect(Picture(page, seen.Id)).ToBeVisibleAsync();

        // The hub goes away: the editor says so and offers to reconnect.
        var catchUp = page.WaitForRequestAsync(r => r.Url.Contains($"/api/users/{user}/events?after="));
        app.HubUnreachable = true;
        Assert.Equal(1, app.DropHubConnections());
        await Assertions.Expect(TestId(page, "reconnect")).ToBeVisibleAsync();

        // A picture uploaded meanwhile: no hub message can carry it.
        var missed = await app.UploadAsync(user, TestImages.Green);
        app.HubUnreachable = false;

        // Back: the events route brings what was missed (its change event), and the grid shows it.
        Assert.Contains("after=", (await catchUp).Url);
        await Assertions.Expect(Picture(page, missed.Id)).ToBeVisibleAsync();
        await Assertions.Expect(editor).ToHaveAttributeAsync("connection", "connected");
        Assert.Contains(await EditorEventsAsync(page, "change"), e => e.Contains("PictureUploaded") && e.Contains(missed.Id.ToString()));
        await Assertions.Expect(TestId(page, "reconnect")).ToHaveCountAsync(0);
    }

    [Fact]
    public async Task RefusedFilesShowTheServicesOwnWords()
    {
        const string user = "ae-refused";
        var page = await OpenEditorAsync(user);
        var error = TestId(page, "error");

        // What the service answers for each file, asked directly.
        async Task<(string Title, string Detail)> ServiceSays(byte[] bytes, string name)
        {
            var response = await app.Api(user).PostAsync("/api/uploads", TestUploads.Form(bytes, name));
            Assert.False(response.IsSuccessStatusCode);
            var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
            return (problem.GetProperty("title").GetString()!, problem.GetProperty("detail").GetString()!);
        }

        async Task ExpectShown((string Title, string Detail) said)
        {
            await Assertions.Expect(error).ToContainTextAsync(said.Title);
            await Assertions.Expect(error).ToContainTextAsync(said.Detail);
            await TestId(page, "dismiss").ClickAsync();
        }

        // A text file: refused before upload, in the words the service uses.
        var text = "just some notes"u8.ToArray();
        var uploads = 0;
        page.Request += (_, r) => { if (r.Url.EndsWith("/api/uploads") && r.Method == "POST") uploads++; };
        await TestId(page, "file-input").SetInputFilesAsync(new FilePayload { Name = "notes.txt", MimeType = "text/plain", Buffer = text });
        await ExpectShown(await ServiceSays(text, "notes.txt"));
        Assert.Equal(0, uploads);

        // Text that claims to be a JPEG: the service refuses it and the editor shows the service's detail.
        await TestId(page, "file-input").SetInputFilesAsync(new FilePayload { Name = "photo.jpg", MimeType = "image/jpeg", Buffer = text });
        await ExpectShown(await ServiceSays(text, "photo.jpg"));
        Assert.Equal(1, uploads);

        // Larger than Pictures:MaxUploadBytes (10 MiB): refused before upload with the service's words.
        var big = new byte[(10 * 1024 * 1024) + 1];
        TestImages.SolidJpeg(64, 64, TestImages.Red).CopyTo(big, 0);
        await TestId(page, "file-input").SetInputFilesAsync(new FilePayload { Name = "big.jpg", MimeType = "image/jpeg", Buffer = big });
        await ExpectShown(await ServiceSays(big, "big.jpg"));
        Assert.Equal(1, uploads);

        // Over the quota (6 in this host; the editor assumes the default 100, so the service says it).
        for (var i = 0; i < AvatarEditorApplication.MaxPictures; i++) await app.UploadAsync(user, TestImages.Green);
        await Assertions.Expect(TestId(page, "quota")).ToHaveTextAsync($"{AvatarEditorApplication.MaxPictures} of 100");
        await TestId(page, "file-input").SetInputFilesAsync(new FilePayload { Name = "one-more.jpg", MimeType = "image/jpeg", Buffer = TestImages.SolidJpeg(100, 100, TestImages.Blue) });
        // The service refuses at staging, or (where staging does not count) at the commit.
        await Assertions.Expect(error.Or(TestId(page, "crop-confirm"))).ToBeVisibleAsync();
        if (await TestId(page, "crop-confirm").IsVisibleAsync()) await TestId(page, "crop-confirm").ClickAsync();
        var response = await app.Api(user).PostAsync($"/api/users/{user}/pictures", TestUploads.Form(TestImages.SolidJpeg(100, 100, TestImages.Blue), "one-more.jpg"));
        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        (string Title, string Detail) quota = (problem.GetProperty("title").GetString()!, problem.GetProperty("detail").GetString()!);
        Assert.Equal("Picture quota reached", quota.Title);
        await ExpectShown(quota);
        var errors = await EditorEventsAsync(page, "error");
        Assert.True(errors.Length == 4, string.Join("\n", errors));
    }

    [Fact]
    public async Task AnUploadCutOffByTheNetworkIsOfferedAgainAndSucceeds()
    {
        const string user = "ae-drop";
        var page = await OpenEditorAsync(user);
        var aborted = 0;
        await page.RouteAsync($"{app.BaseUrl}/api/uploads", async route =>
        {
            if (route.Request.Method == "POST" && Interlocked.Increment(ref aborted) == 1) await route.AbortAsync("connectionreset");
            else await route.ContinueAsync();
        });
        await TestId(page, "file-input").SetInputFilesAsync(new FilePayload { Name = "red.jpg", MimeType = "image/jpeg", Buffer = TestImages.SolidJpeg(300, 300, TestImages.Red) });
        await Assertions.Expect(TestId(page, "error")).ToContainTextAsync("Connection lost");
        Assert.Equal(0, await app.StagedUploadsAsync(user));

        await TestId(page, "retry").ClickAsync();
        await TestId(page, "crop-confirm").ClickAsync();
        await Assertions.Expect(page.Locator("avatar-editor [data-testid=picture]")).ToHaveCountAsync(1);
        Assert.Equal(2, aborted);
        Assert.Single(await app.Api(user).GetFromJsonAsync<PictureJson[]>($"/api/users/{user}/pictures") ?? []);
    }

    [Fact]
    public async Task ADroppedOrPastedImageIsUploadedAndABusyAnswerIsWaitedOutAndRetried()
    {
        const string user = "ae-drop-paste";
        var page = await OpenEditorAsync(user);
        var posts = 0;
        // The first staging is answered 429 with Retry-After, as the rate limit would.
        await page.RouteAsync($"{app.BaseUrl}/api/uploads", async route =>
        {
            if (route.Request.Method == "POST" && Interlocked.Increment(ref posts) == 1)
                await route.FulfillAsync(new()
                {
                    Status = 429, ContentType = "application/problem+json",
                    Headers = new Dictionary<string, string>
                    {
                        ["Retry-After"] = "1", ["Access-Control-Allow-Origin"] = "*", ["Access-Control-Expose-Headers"] = "Retry-After",
                    },
                    Body = """{"status":429,"title":"Too many uploads","detail":"Wait a moment."}""",
                });
            else await route.ContinueAsync();
        });
        var jpeg = Convert.ToBase64String(TestImages.SolidJpeg(300, 300, TestImages.Red));
        const string file = "b64 => { const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0)); const data = new DataTransfer(); data.items.add(new File([bytes], 'image.jpg', { type: 'image/jpeg' })); return data; }";

        // Dropped on the editor: the wait is shown, then the retry stages it.
        await page.EvaluateAsync($"b64 => document.querySelector('avatar-editor').shadowRoot.querySelector('[data-testid=dropzone]').dispatchEvent(new DragEvent('drop', {{ dataTransfer: ({file})(b64), bubbles: true, cancelable: true }}))", jpeg);
        await Assertions.Expect(page.Locator("avatar-editor [role=status]")).ToContainTextAsync("trying again in 1 s");
        await TestId(page, "crop-confirm").ClickAsync();
        await Assertions.Expect(page.Locator("avatar-editor [data-testid=picture]")).ToHaveCountAsync(1);
        Assert.Equal(2, posts);

        // Pasted into the editor.
        await page.EvaluateAsync($"b64 => document.querySelector('avatar-editor').dispatchEvent(new ClipboardEvent('paste', {{ clipboardData: ({file})(b64), bubbles: true, cancelable: true }}))", jpeg);
        await TestId(page, "crop-confirm").ClickAsync();
        await Assertions.Expect(page.Locator("avatar-editor [data-testid=picture]")).ToHaveCountAsync(2);
        Assert.Equal(2, (await app.Api(user).GetFromJsonAsync<PictureJson[]>($"/api/users/{user}/pictures"))!.Length);
    }

    [Fact]
    public async Task AxeFindsNoSeriousViolationInLightOrDarkInTheGridTheCropperAndTheTrash()
    {
        const string user = "ae-axe";
        var kept = await app.UploadAsync(user, TestImages.Blue);
        await app.ActivateAsync(user, kept.Id);
        await app.UploadAsync(user, TestImages.Green);
        var trashed = await app.UploadAsync(user, TestImages.Red);
        Assert.Equal(HttpStatusCode.OK, (await app.Api(user).DeleteAsync($"/api/users/{user}/pictures/{trashed.Id}")).StatusCode);
        var axe = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot.Find(), "tests", "ImagePictures.Api.Tests", "Browser", "axe", "node_modules", "axe-core", "axe.min.js"));
        Directory.CreateDirectory(Artifacts);

        foreach (var scheme in new[] { ColorScheme.Light, ColorScheme.Dark })
        {
            var page = await (await Browser.NewContextAsync(new() { ColorScheme = scheme, ViewportSize = new() { Width = 800, Height = 900 } })).NewPageAsync();
            await page.GotoAsync($"{app.SiteUrl}/editor?user={user}");
            await Assertions.Expect(Picture(page, kept.Id)).ToBeVisibleAsync();
            await page.AddScriptTagAsync(new() { Content = axe });
            var name = scheme == ColorScheme.Light ? "light" : "dark";

            foreach (var img in await page.Locator("avatar-editor [data-testid=picture] img").AllAsync()) Assert.True(await SecondOriginApplication.LoadedAsync(img));
            await AssertNoSeriousViolationsAsync(page, $"grid, {name}");
            await page.Locator("avatar-editor").ScreenshotAsync(new() { Path = Path.Combine(Artifacts, $"avatar-editor-{name}.png") });

            await TestId(page, "file-input").SetInputFilesAsync(new FilePayload { Name = "gradient.png", MimeType = "image/png", Buffer = Gradient() });
            await Assertions.Expect(TestId(page, "crop-confirm")).ToBeVisibleAsync();
            await page.WaitForFunctionAsync("() => document.querySelector('avatar-editor').imageBox() !== null");
            await AssertNoSeriousViolationsAsync(page, $"cropper, {name}");
            await page.Locator("avatar-editor").ScreenshotAsync(new() { Path = Path.Combine(Artifacts, $"avatar-editor-crop-{name}.png") });
            await TestId(page, "crop-cancel").ClickAsync();

            await TestId(page, "trash-tab").ClickAsync();
            await Assertions.Expect(page.Locator("avatar-editor [data-testid=trashed-picture]")).ToHaveCountAsync(1);
            await AssertNoSeriousViolationsAsync(page, $"trash, {name}");
            await page.Context.CloseAsync();
        }
    }

    /// <summary>The details (JSON) of the events of one type the page's editor dispatched.</summary>
    private static async Task<string[]> EditorEventsAsync(IPage page, string type) =>
        JsonSerializer.Deserialize<string[]>(await page.EvaluateAsync<string>($"() => JSON.stringify(window.editorEvents.filter(e => e.type === '{type}').map(e => e.detail))"))!;

    private static async Task AssertNoSeriousViolationsAsync(IPage page, string where)
    {
        var violations = JsonSerializer.Deserialize<string[]>(await page.EvaluateAsync<string>("""
            async () => JSON.stringify((await axe.run(document.querySelector('avatar-editor'), { resultTypes: ['violations'] })).violations
              .filter(v => v.impact === 'serious' || v.impact === 'critical')
              .map(v => `${v.impact} ${v.id} (${v.help}): ${v.nodes.map(n => JSON.stringify(n.target)).join(' ')}`))
            """))!;
        Assert.True(violations.Length == 0, $"axe in the {where}: " + string.Join("; ", violations));
    }
}

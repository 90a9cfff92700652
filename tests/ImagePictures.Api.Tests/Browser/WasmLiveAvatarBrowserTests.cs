using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.RegularExpressions;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace ImagePictures.Api.Tests.Browser;

/// <summary>
/// On the second origin, the Blazor WebAssembly test app tests/ImagePictures.Components.WasmApp as built: its wwwroot (index.html)
/// over its build output (_framework). The test project references the app, so it is built first.
/// </summary>
public sealed class WasmAvatarApplication : SecondOriginApplication
{
    protected override void MapSite(WebApplication site)
    {
        var output = Metadata("WasmAppOutput");
        if (!File.Exists(Path.Combine(output, "_framework", "blazor.webassembly.js")))
            throw new InvalidOperationException($"The WebAssembly test app is not built at {output}: build ImagePictures.sln (or this test project) first.");
        var files = new CompositeFileProvider(new PhysicalFileProvider(Path.Combine(Metadata("WasmAppDirectory"), "wwwroot")), new PhysicalFileProvider(output));
        // .dat (ICU data) and .pdb have no registered content type; everything here is the app's own build output.
        site.UseStaticFiles(new StaticFileOptions { FileProvider = files, ServeUnknownFileTypes = true });
        site.MapGet("/", () => Results.File(files.GetFileInfo("index.html").CreateReadStream(), "text/html; charset=utf-8"));
        site.MapGet("/token", (string user) => Results.Text(Token(user))); // the site's backend hands out its user's token
    }

    private static string Metadata(string key) =>
        typeof(WasmAvatarApplication).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}

/// <summary>
/// &lt;LiveAvatar&gt; running in .NET WebAssembly in Debian's Chromium, on a page of another origin and
/// without a token: it follows a real activation of one user, and leaves the other user's avatar alone.
/// </summary>
[Trait("Category", "Browser")]
public class WasmLiveAvatarBrowserTests(WasmAvatarApplication app) : ChromiumTest, IClassFixture<WasmAvatarApplication>
{
    [Fact]
    public async Task LiveAvatarInWebAssemblyFollowsAnActivation()
    {
        var bobPicture = await app.UploadAsync("wa-bob", TestImages.Blue);
        await app.ActivateAsync("wa-bob", bobPicture.Id);

        var page = await (await Browser.NewContextAsync()).NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") errors.Add($"console: {m.Text}"); };
        page.PageError += (_, e) => errors.Add($"page error: {e}");
        var wasmFetched = false;
        page.Response += (_, r) => { if (Regex.IsMatch(r.Url, @"/_framework/dotnet\.native\.[^/]*\.wasm$") && r.Ok) wasmFetched = true; };
        var watched = new TaskCompletionSource();
        page.WebSocket += (_, ws) => ws.FrameReceived += (_, f) => { if (f.Text?.Contains("\"type\":3") == true) watched.TrySetResult(); };

        Assert.NotEqual(new Uri(app.SiteUrl).Port, new Uri(app.BaseUrl).Port); // another origin
        await page.GotoAsync($"{app.SiteUrl}/?service={Uri.EscapeDataString(app.BaseUrl + "/")}&users=wa-alice,wa-bob");

        // It runs in .NET WebAssembly: the runtime was fetched, and the renderer says so.
        var renderer = page.Locator("#renderer");
        await Assertions.Expect(renderer).ToHaveTextAsync("WebAssembly", new() { Timeout = 60_000 });
        Assert.Equal("yes", await renderer.GetAttributeAsync("data-interactive"));
        Assert.True(wasmFetched, "dotnet.native.wasm was not fetched");

        var alice = page.Locator("img[data-user-id='wa-alice']");
        var bob = page.Locator("img[data-user-id='wa-bob']");
        Assert.StartsWith($"{app.BaseUrl}/avatars/wa-alice?size=64&v=", await alice.GetAttributeAsync("src"));
        Assert.True(await SecondOriginApplication.LoadedAsync(alice), "Alice's avatar did not load");
        Assert.True(await SecondOriginApplication.LoadedAsync(bob), "Bob's avatar did not load");

        // The anonymous hub connection is up and its Watch answered before the change is made.
        await watched.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var bobSrc = await bob.GetAttributeAsync("src");

        var red = await app.UploadAsync("wa-alice", TestImages.Red);
        await app.ActivateAsync("wa-alice", red.Id);
        await Assertions.Expect(alice).ToHaveAttributeAsync("src", new Regex($"[?&]v={red.ContentHash[..16]}$"), new() { Timeout = 5000 });
        Assert.True(await SecondOriginApplication.LoadedAsync(alice), "Alice's new avatar did not load");
        // Every component hears the same event in the same render pass: Alice's has rendered, so Bob's would have.
        Assert.Equal(bobSrc, await bob.GetAttributeAsync("src"));

        Assert.Empty(errors);
    }

    [Fact]
    public async Task AvatarEditorInWebAssemblyShowsLiveChangesAndRaisesItsEvents()
    {
        const string user = "wa-carol";
        var first = await app.UploadAsync(user, TestImages.Blue);
        var page = await (await Browser.NewContextAsync()).NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") errors.Add($"console: {m.Text}"); };
        page.PageError += (_, e) => errors.Add($"page error: {e}");
        await page.GotoAsync($"{app.SiteUrl}/?service={Uri.EscapeDataString(app.BaseUrl + "/")}&editor={user}");
        await Assertions.Expect(page.Locator("#renderer")).ToHaveTextAsync("WebAssembly", new() { Timeout = 60_000 });

        // The element, hosted by the component, lists the user's pictures with the component's token.
        var editor = page.Locator("avatar-editor");
        Assert.Equal(app.BaseUrl, await editor.GetAttributeAsync("service"));
        await Assertions.Expect(editor.Locator($"[data-testid=picture][data-picture-id='{first.Id}']")).ToBeVisibleAsync();

        // A picture uploaded elsewhere appears; setting it active in the editor reaches OnChange.
        await page.WaitForFunctionAsync("() => document.querySelector('avatar-editor').hub?.state === 'Connected'");
        var second = await app.UploadAsync(user, TestImages.Green);
        var picture = editor.Locator($"[data-testid=picture][data-picture-id='{second.Id}']");
        await picture.Locator("[data-testid=activate]").ClickAsync();
        await Assertions.Expect(picture).ToHaveAttributeAsync("data-active", "true");
        await Assertions.Expect(page.Locator("#editor-events")).ToContainTextAsync(second.Id.ToString());
        var active = await app.Api(user).GetFromJsonAsync<PictureJson>($"/api/users/{user}/active-picture");
        Assert.Equal(second.Id, active!.Id);

        // The close button reaches OnClose.
        await editor.Locator("[data-testid=close]").ClickAsync();
        await Assertions.Expect(page.Locator("#editor-events li").Last).ToHaveTextAsync(new Regex(@"^close\s*$"));
        Assert.Empty(errors);
    }
}

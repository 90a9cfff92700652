using System.Net;
using System.Net.Http.Json;
using System.Reflection;
using System.Text.RegularExpressions;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Tests.Infrastructure;
using ImagePictures.Imaging.Tests;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace ImagePictures.Api.Tests.Browser;

/// <summary>
/// The service on a real Kestrel port, and on a second port (another origin, the one allowed) the
/// Blazor WebAssembly test app tests/ImagePictures.Components.WasmApp as built: its wwwroot (index.html)
/// over its build output (_framework). The test project references the app, so it is built first.
/// </summary>
public sealed class WasmAvatarApplication : KestrelPicturesApplication
{
    private WebApplication? _site;
    public string SiteUrl { get; private set; } = "";

    public override async Task InitializeAsync()
    {
        var output = Metadata("WasmAppOutput");
        if (!File.Exists(Path.Combine(output, "_framework", "blazor.webassembly.js")))
            throw new InvalidOperationException($"The WebAssembly test app is not built at {output}: build ImagePictures.sln (or this test project) first.");

        var site = WebApplication.CreateSlimBuilder();
        site.WebHost.UseUrls("http://127.0.0.1:0");
        site.Logging.ClearProviders();
        _site = site.Build();
        var files = new CompositeFileProvider(new PhysicalFileProvider(Path.Combine(Metadata("WasmAppDirectory"), "wwwroot")), new PhysicalFileProvider(output));
        // .dat (ICU data) and .pdb have no registered content type; everything here is the app's own build output.
        _site.UseStaticFiles(new StaticFileOptions { FileProvider = files, ServeUnknownFileTypes = true });
        _site.MapGet("/", () => Results.File(files.GetFileInfo("index.html").CreateReadStream(), "text/html; charset=utf-8"));
        await _site.StartAsync();
        SiteUrl = _site.Urls.First();
        With("Realtime:AllowedOrigins:0", SiteUrl);
        await base.InitializeAsync();
    }

    public override async ValueTask DisposeAsync()
    {
        if (_site is not null) await _site.DisposeAsync();
        await base.DisposeAsync();
    }

    private static string Metadata(string key) =>
        typeof(WasmAvatarApplication).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(a => a.Key == key).Value!;
}

/// <summary>
/// &lt;LiveAvatar&gt; running in .NET WebAssembly in Debian's Chromium, on a page of another origin and
/// without a token: it follows a real activation of one user, and leaves the other user's avatar alone.
/// </summary>
public class WasmLiveAvatarBrowserTests(WasmAvatarApplication app) : ChromiumTest, IClassFixture<WasmAvatarApplication>
{
    private async Task<PictureJson> UploadAsync(string userId, double[] colour)
    {
        var response = await app.Api(userId).PostAsync($"/api/users/{userId}/pictures", TestUploads.Form(TestImages.SolidJpeg(300, 300, colour)));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PictureJson>())!;
    }

    private async Task ActivateAsync(string userId, Guid pictureId) =>
        Assert.Equal(HttpStatusCode.OK, (await app.Api(userId).PutAsJsonAsync($"/api/users/{userId}/active-picture", new { pictureId })).StatusCode);

    private static Task<bool> LoadedAsync(ILocator img) =>
        img.EvaluateAsync<bool>("i => (i.complete ? Promise.resolve() : new Promise(r => { i.onload = r; i.onerror = r; })).then(() => i.complete && i.naturalWidth > 0)");

    [Fact]
    public async Task LiveAvatarInWebAssemblyFollowsAnActivation()
    {
        var bobPicture = await UploadAsync("wa-bob", TestImages.Blue);
        await ActivateAsync("wa-bob", bobPicture.Id);

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
        Assert.True(await LoadedAsync(alice), "Alice's avatar did not load");
        Assert.True(await LoadedAsync(bob), "Bob's avatar did not load");

        // The anonymous hub connection is up and its Watch answered before the change is made.
        await watched.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var bobSrc = await bob.GetAttributeAsync("src");

        var red = await UploadAsync("wa-alice", TestImages.Red);
        await ActivateAsync("wa-alice", red.Id);
        await Assertions.Expect(alice).ToHaveAttributeAsync("src", new Regex($"[?&]v={red.ContentHash[..16]}$"), new() { Timeout = 5000 });
        Assert.True(await LoadedAsync(alice), "Alice's new avatar did not load");
        await Task.Delay(300);
        Assert.Equal(bobSrc, await bob.GetAttributeAsync("src"));

        Assert.Empty(errors);
    }
}

using System.Net;
using System.Net.Http.Json;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace ImagePictures.Api.Tests.Browser;

/// <summary>
/// The service on a real Kestrel port, and a site on a second port (another origin) that is the one
/// allowed origin: what a page embedding live avatars from elsewhere looks like.
/// </summary>
public abstract class SecondOriginApplication : KestrelPicturesApplication
{
    private WebApplication? _site;
    public string SiteUrl { get; private set; } = "";

    /// <summary>What the site serves (called before the service starts: read BaseUrl per request, not here).</summary>
    protected abstract void MapSite(WebApplication site);

    public override async Task InitializeAsync()
    {
        var site = WebApplication.CreateSlimBuilder();
        site.WebHost.UseUrls("http://127.0.0.1:0");
        site.Logging.ClearProviders();
        _site = site.Build();
        MapSite(_site);
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

    public async Task<PictureJson> UploadAsync(string userId, double[] colour)
    {
        var response = await Api(userId).PostAsync($"/api/users/{userId}/pictures", TestUploads.Form(TestImages.SolidJpeg(300, 300, colour)));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<PictureJson>())!;
    }

    public async Task ActivateAsync(string userId, Guid pictureId) =>
        Assert.Equal(HttpStatusCode.OK, (await Api(userId).PutAsJsonAsync($"/api/users/{userId}/active-picture", new { pictureId })).StatusCode);

    /// <summary>True once the image has loaded with pixels (false for a broken one).</summary>
    public static Task<bool> LoadedAsync(ILocator img) =>
        img.EvaluateAsync<bool>("i => (i.complete ? Promise.resolve() : new Promise(r => { i.onload = r; i.onerror = r; })).then(() => i.complete && i.naturalWidth > 0)");
}

using ImagePictures.Api.Hosting;
using Microsoft.Extensions.FileProviders;

namespace ImagePictures.Api.Sample;

/// <summary>The browser sample (wwwroot-sample/) at /sample/, in Development only: a page on /client/avatar-editor.js and /client/live-avatar.js.</summary>
public static class SampleHosting
{
    private static readonly HashSet<string> PageFiles = new(StringComparer.Ordinal) { "/", "/index.html", "/app.js", "/style.css" };

    public static void UseBrowserSample(this WebApplication app)
    {
        if (!app.Environment.IsDevelopment()) return;
        var folder = Path.Combine(app.Configuration["RepositoryRoot"] ?? RepositoryRoot.Find(), "wwwroot-sample");
        if (!Directory.Exists(folder)) return;

        // A route for "/sample" would also match "/sample/" and shadow the static files: redirect by hand.
        app.Use((http, next) =>
        {
            if (http.Request.Path.Value == "/sample") { http.Response.Redirect("/sample/"); return Task.CompletedTask; }
            return next(http);
        });
        // Only the page's own files, by exact path: never package.json or node_modules, however the path is spelt (//, %2F, case).
        app.UseWhen(ctx => ctx.Request.Path.StartsWithSegments("/sample", out var rest) && !PageFiles.Contains(rest.Value ?? ""),
            branch => branch.Run(ctx => Problems.Write(ctx, 404, "Not found", "Only the sample page's own files are served here: /sample/, app.js and style.css.")));
        var files = new PhysicalFileProvider(folder);
        app.UseDefaultFiles(new DefaultFilesOptions { RequestPath = "/sample", FileProvider = files });
        app.UseStaticFiles(new StaticFileOptions
        {
            RequestPath = "/sample",
            FileProvider = files,
            OnPrepareResponse = ctx => ctx.Context.Response.Headers.XContentTypeOptions = "nosniff",
        });
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Xunit.Abstractions;
using ImagePictures.Api.Pictures;
using ImagePictures.Api.Tests.Infrastructure;

namespace ImagePictures.Api.Tests;

/// <summary>
/// An account deletion whose files cannot be removed: the user's folder is a mount point, which
/// cannot be renamed (EBUSY). The answer is 503 speaking of the deletion, and nothing is deleted.
/// </summary>
[Trait("Category", "Api")]
public class AccountDeletionFailureTests(PicturesApplication app, ITestOutputHelper output) : IClassFixture<PicturesApplication>
{
    [Fact]
    public async Task ADeletionThatCannotRemoveTheFilesIs503AboutTheDeletionAndKeepsEverything()
    {
        const string user = "del-fail";
        var client = app.ClientFor(user);
        using var image = TestImages.Split(200, 100, TestImages.Red, TestImages.Blue);
        var uploaded = await client.PostAsync($"/api/users/{user}/pictures", TestUploads.Form(TestImages.Jpeg(image)));
        Assert.Equal(HttpStatusCode.Created, uploaded.StatusCode);
        var picture = (await uploaded.Content.ReadFromJsonAsync<PictureJson>())!;

        var folder = app.UserFolder(user);
        var (code, message) = Run("mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", folder);
        if (code != 0)
        {
            output.WriteLine($"SKIPPED: mount -t tmpfs was refused ({message.Trim()}); run the tests as root to check this.");
            return;
        }
        try
        {
            var refused = await client.DeleteAsync($"/api/users/{user}");
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
            Assert.NotNull(refused.Headers.RetryAfter);
            var detail = (await refused.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
            Assert.Contains("account deletion", detail);
            Assert.DoesNotContain("purge", detail);
        }
        finally
        {
            if (Run("umount", folder).Code != 0) Run("umount", "-l", folder);
        }

        // Nothing was deleted: the row and every file are still there, and a repeat succeeds.
        Assert.Single((await client.GetFromJsonAsync<List<PictureJson>>($"/api/users/{user}/pictures"))!);
        Assert.Equal(HttpStatusCode.OK, (await app.CreateClient().GetAsync($"/pictures/{picture.Id}/64")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.DeleteAsync($"/api/users/{user}")).StatusCode);
        Assert.Empty((await client.GetFromJsonAsync<List<PictureJson>>($"/api/users/{user}/pictures"))!);
        Assert.False(Directory.Exists(folder));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(app.StorageRoot, "users"), ".deleting-*"));
    }

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true };
        try
        {
            using var p = Process.Start(psi)!;
            var text = p.StandardError.ReadToEnd() + p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, text);
        }
        catch (System.ComponentModel.Win32Exception e) { return (-1, e.Message); }
    }
}

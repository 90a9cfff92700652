using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Dapper;
using ImagePictures.Api.Tests.Infrastructure;
using Npgsql;

namespace ImagePictures.Api.Tests;

[Trait("Category", "Api")]
public class AdminTests(JobsApplication app) : IClassFixture<JobsApplication>
{
    private static byte[] Photo() { using var img = TestImages.Split(200, 100, TestImages.Red, TestImages.Blue); return TestImages.Jpeg(img); }

    private async Task<Guid> Stage(string user)
    {
        var response = await app.ClientFor(user).PostAsync("/api/uploads", TestUploads.Form(Photo()));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetGuid();
    }

    private async Task<(int Found, int Deleted, int Failed)> Cleanup(object body)
    {
        var response = await app.Admin().PostAsJsonAsync("/api/admin/uploads/cleanup", body);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var json = await response.Content.ReadFromJsonAsync<JsonElement>();
        return (json.GetProperty("found").GetInt32(), json.GetProperty("deleted").GetInt32(), json.GetProperty("failed").GetInt32());
    }

    /// <summary>All the clean-up actions in one sequence, since they share the one table of staged uploads.</summary>
    [Fact]
    public async Task UploadListAndEveryCleanupAction()
    {
        await Cleanup(new { action = "delete-all", confirm = "delete-all" });
        var old1 = await Stage("anna");
        var old2 = await Stage("bert");
        var fresh = await Stage("anna");
        var session = await Stage("carl");
        await using (var conn = new NpgsqlConnection(app.ConnectionString))
            await conn.ExecuteAsync("UPDATE staged_uploads SET created_at = now() - interval '5 hours' WHERE id = ANY(@ids)", new { ids = new[] { old1, old2 } });

        var list = (await app.Admin().GetFromJsonAsync<JsonElement[]>("/api/admin/uploads"))!;
        Assert.Equal(4, list.Length);
        var anna = list.Single(u => u.GetProperty("id").GetGuid() == fresh);
        Assert.Equal("anna", anna.GetProperty("userId").GetString());
        Assert.True(anna.GetProperty("bytes").GetInt64() > 0);
        Assert.True(anna.GetProperty("expiresAt").GetDateTime() > anna.GetProperty("createdAt").GetDateTime());

        Assert.Equal((4, 0, 0), await Cleanup(new { action = "list" }));
        Assert.Equal((2, 2, 0), await Cleanup(new { action = "cleanup-old", olderThanHours = 2 }));
        Assert.False(Directory.Exists(Path.Combine(app.StorageRoot, "temp", old1.ToString())));
        Assert.Equal((1, 1, 0), await Cleanup(new { action = "delete-session", uploadId = session }));
        Assert.Equal((0, 0, 0), await Cleanup(new { action = "delete-session", uploadId = session }));

        var admin = app.Admin();
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync("/api/admin/uploads/cleanup", new { action = "delete-all" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync("/api/admin/uploads/cleanup", new { action = "delete-all", confirm = "yes" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync("/api/admin/uploads/cleanup", new { action = "shred" })).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await admin.PostAsJsonAsync("/api/admin/uploads/cleanup", new { action = "delete-session" })).StatusCode);
        Assert.Equal((1, 0, 0), await Cleanup(new { action = "list" })); // nothing deleted by the refused calls
        Assert.Equal((1, 1, 0), await Cleanup(new { action = "delete-all", confirm = "delete-all" }));
        Assert.Empty((await admin.GetFromJsonAsync<JsonElement[]>("/api/admin/uploads"))!);

        Assert.Equal(HttpStatusCode.Forbidden, (await app.ClientFor("anna").PostAsJsonAsync("/api/admin/uploads/cleanup", new { action = "list" })).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.ClientFor("anna").GetAsync("/api/admin/uploads")).StatusCode);
    }

    [Fact]
    public async Task DashboardIsServerRenderedForAnAdminBearerToken()
    {
        var response = await app.Admin().GetAsync("/admin");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        Assert.Contains("trash-purge", html);
        Assert.Contains("temp-cleanup", html);
        Assert.Contains("orphan-sweep", html);
        Assert.Contains("_framework/blazor.web.js", html);
        // The jobs are controlled in the Hangfire dashboard only: the page links there and has no job buttons.
        Assert.Contains("href=\"/hangfire\"", html);
        Assert.DoesNotContain("data-testid=\"trigger\"", html);
        Assert.DoesNotContain("data-testid=\"pause\"", html);
    }

    [Fact]
    public async Task DashboardIs403ForAUserAnd401OrSignInForAnonymous()
    {
        Assert.Equal(HttpStatusCode.Forbidden, (await app.ClientFor("dora").GetAsync("/admin")).StatusCode);
        var anonymous = await app.ClientWithToken(null).GetAsync("/admin");
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal("application/problem+json", anonymous.Content.Headers.ContentType?.MediaType);

        var browser = app.ClientWithToken(null);
        browser.DefaultRequestHeaders.Accept.ParseAdd("text/html");
        var redirected = await browser.GetAsync("/admin");
        Assert.Equal(HttpStatusCode.Redirect, redirected.StatusCode);
        Assert.Equal("/admin/login", redirected.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task SignInSetsAStrictHttpOnlyCookieThatOpensTheDashboard()
    {
        var browser = app.ClientWithToken(null);
        var form = await browser.GetAsync("/admin/login");
        Assert.Equal(HttpStatusCode.OK, form.StatusCode);
        Assert.Contains("name=\"token\"", await form.Content.ReadAsStringAsync());

        var userLogin = await browser.PostAsync("/admin/login", new FormUrlEncodedContent([new("token", app.Token("dora"))]));
        Assert.Equal(HttpStatusCode.Forbidden, userLogin.StatusCode);
        Assert.False(userLogin.Headers.Contains("Set-Cookie"));
        var badLogin = await browser.PostAsync("/admin/login", new FormUrlEncodedContent([new("token", "not.a.token")]));
        Assert.Equal(HttpStatusCode.Unauthorized, badLogin.StatusCode);

        var login = await browser.PostAsync("/admin/login", new FormUrlEncodedContent([new("token", app.Token("root-admin", roles: ["admin"]))]));
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        Assert.Equal("/admin", login.Headers.Location?.OriginalString);
        var cookie = Assert.Single(login.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("ip_admin=", cookie);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/", cookie, StringComparison.OrdinalIgnoreCase);

        var withCookie = app.ClientWithToken(null);
        withCookie.DefaultRequestHeaders.Add("Cookie", cookie.Split(';')[0]);
        var dashboard = await withCookie.GetAsync("/admin");
        Assert.Equal(HttpStatusCode.OK, dashboard.StatusCode);
        Assert.Contains("trash-purge", await dashboard.Content.ReadAsStringAsync());
        // The cookie opens the jobs dashboard too, but not the API.
        Assert.Equal(HttpStatusCode.OK, (await withCookie.GetAsync("/hangfire")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await withCookie.GetAsync("/api/admin/jobs")).StatusCode);
    }
}

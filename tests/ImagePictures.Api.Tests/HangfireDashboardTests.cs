using ImagePictures.Api.Uploads;
using System.Net;
using System.Text.RegularExpressions;
using ImagePictures.Api.Jobs;
using ImagePictures.Api.Tests.Infrastructure;
using Npgsql;

namespace ImagePictures.Api.Tests;

/// <summary>The Hangfire dashboard at /hangfire: every row of the contract's access rules, its options and its antiforgery check.</summary>
[Trait("Category", "Api")]
public class HangfireDashboardTests(JobsApplication app) : IClassFixture<JobsApplication>
{
    /// <summary>The recurring-jobs table row of one job id.</summary>
    public static string RecurringRow(string page, string id)
    {
        var at = page.IndexOf($"value=\"{id}\"", StringComparison.Ordinal);
        Assert.True(at >= 0, $"the recurring jobs page does not list {id}");
        var start = page.LastIndexOf("<tr", at, StringComparison.Ordinal);
        var end = page.IndexOf("</tr>", at, StringComparison.Ordinal);
        return page[start..end];
    }

    private async Task<string> AdminCookie()
    {
        var login = await app.ClientWithToken(null).PostAsync("/admin/login", new FormUrlEncodedContent([new("token", app.Token("hf-admin", roles: ["admin"]))]));
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        return login.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("ip_admin=")).Split(';')[0];
    }

    [Theory]
    [InlineData("/hangfire")]
    [InlineData("/hangfire/recurring")]
    public async Task ABrowserWithoutATokenIsSentToTheSignInForm(string path)
    {
        var browser = app.ClientWithToken(null);
        browser.DefaultRequestHeaders.Accept.ParseAdd("text/html,application/xhtml+xml");
        var response = await browser.GetAsync(path);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal("/admin/login", response.Headers.Location?.OriginalString);
    }

    [Fact]
    public async Task AnyOtherRequestWithoutATokenIs401ProblemDetails()
    {
        var anonymous = app.ClientWithToken(null);
        foreach (var response in new[] { await anonymous.GetAsync("/hangfire"), await anonymous.PostAsync("/hangfire/stats", null) })
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        }
    }

    [Fact]
    public async Task ATokenWithoutRoleAdminIs403EvenAsABrowser()
    {
        var user = app.ClientFor("dora");
        user.DefaultRequestHeaders.Accept.ParseAdd("text/html");
        var response = await user.GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.ClientFor("dora").GetAsync("/hangfire/recurring")).StatusCode);
    }

    [Fact]
    public async Task AnAdminBearerTokenOpensTheDashboardWhichListsTheFourJobsAndHidesTheConnectionString()
    {
        var admin = app.Admin();
        var home = await admin.GetAsync("/hangfire");
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        var html = await home.Content.ReadAsStringAsync();
        Assert.Contains("ImagePictures jobs", html);
        Assert.Contains("href=\"/admin\"", html); // "Back to site"

        var recurring = await admin.GetStringAsync("/hangfire/recurring");
        foreach (var id in JobsSetup.Catalog.Keys) Assert.Contains(JobsApplication.FarCron, RecurringRow(recurring, id));

        var database = new NpgsqlConnectionStringBuilder(app.ConnectionString).Database!;
        foreach (var page in new[] { html, recurring })
        {
            Assert.DoesNotContain(database, page);
            Assert.DoesNotContain("PostgreSQL Server", page);
        }
    }

    [Fact]
    public async Task TheSignInCookieOfAnAdminOpensTheDashboard()
    {
        var browser = app.ClientWithToken(null);
        browser.DefaultRequestHeaders.Add("Cookie", await AdminCookie());
        browser.DefaultRequestHeaders.Accept.ParseAdd("text/html");
        var response = await browser.GetAsync("/hangfire/recurring");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var page = await response.Content.ReadAsStringAsync();
        foreach (var id in JobsSetup.Catalog.Keys) RecurringRow(page, id);
    }

    [Fact]
    public async Task ADashboardPostWithoutTheAntiforgeryTokenIsRefusedAndWithItTheJobRuns()
    {
        var admin = app.Admin();
        var before = await JobDriver.LastRunIdAsync(admin, TempCleanupJob.Name);
        var trigger = new FormUrlEncodedContent([new("jobs[]", TempCleanupJob.Name)]);

        await Eventually(() => JobDriver.Quiet(app), "the jobs of earlier tests finished"); // so the counts below stand still
        var jobsBefore = JobDriver.Monitoring(app).GetStatistics();
        var refused = await admin.PostAsync("/hangfire/recurring/trigger", trigger);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        // The dashboard refuses before it creates anything, so once the 403 is here Hangfire has no new job
        // in any state (and the cron is years away), and no run was recorded.
        var jobsAfter = JobDriver.Monitoring(app).GetStatistics();
        Assert.Equal((jobsBefore.Enqueued, jobsBefore.Processing, jobsBefore.Scheduled, jobsBefore.Succeeded, jobsBefore.Failed, jobsBefore.Deleted),
            (jobsAfter.Enqueued, jobsAfter.Processing, jobsAfter.Scheduled, jobsAfter.Succeeded, jobsAfter.Failed, jobsAfter.Deleted));
        Assert.Equal(before, await JobDriver.LastRunIdAsync(admin, TempCleanupJob.Name));

        // The same POST as the dashboard's own script makes it: the token from the page in its header (the
        // client keeps the antiforgery cookie, as a browser does).
        var page = await admin.GetAsync("/hangfire/recurring");
        var html = await page.Content.ReadAsStringAsync();
        var header = Regex.Match(html, "<meta name=\"csrf-header\" content=\"([^\"]+)\"").Groups[1].Value;
        var token = WebUtility.HtmlDecode(Regex.Match(html, "<meta name=\"csrf-token\" content=\"([^\"]+)\"").Groups[1].Value);
        Assert.False(string.IsNullOrEmpty(header) || string.IsNullOrEmpty(token), "the dashboard page carries no antiforgery token");
        // With the antiforgery cookie but without the token: still refused.
        Assert.Equal(HttpStatusCode.Forbidden, (await admin.PostAsync("/hangfire/recurring/trigger", new FormUrlEncodedContent([new("jobs[]", TempCleanupJob.Name)]))).StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hangfire/recurring/trigger") { Content = new FormUrlEncodedContent([new("jobs[]", TempCleanupJob.Name)]) };
        request.Headers.Add(header, token);
        var accepted = await admin.SendAsync(request);
        Assert.True(accepted.IsSuccessStatusCode, $"with the token: {(int)accepted.StatusCode}");
        var run = (await JobDriver.WaitForRunsAfterAsync(admin, TempCleanupJob.Name, before, 1))[0];
        Assert.Equal("succeeded", run.Status);
    }
}

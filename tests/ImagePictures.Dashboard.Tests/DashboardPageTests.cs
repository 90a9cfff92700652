using Bunit;
using ImagePictures.Dashboard;

namespace ImagePictures.Dashboard.Tests;

[Trait("Category", "Unit")]
public class DashboardPageTests : DashboardTestBase
{
    [Fact]
    public void First_render_shows_summary_job_status_and_staged_uploads()
    {
        Fake.WithDefaultJobs();

        var cut = Render<DashboardPage>();

        Assert.Equal("ImagePictures admin", cut.Find("h1").TextContent);
        Assert.Equal(["trash-purge", "staging-cleanup"], cut.FindAll("[data-testid=job-line]").Select(r => r.GetAttribute("data-job")));
        Assert.Equal("/hangfire", cut.Find("[data-testid=jobs-dashboard-link]").GetAttribute("href"));
        Assert.Equal("12.3 MB", cut.Find("[data-testid=bytes]").TextContent);
        Assert.Equal("120", cut.Find("[data-testid=live-pictures]").TextContent);
        Assert.NotNull(cut.Find("[data-testid=cleanup-old]"));
        Assert.Equal(1, Fake.CallCount("GetJobsAsync"));
        Assert.Equal("_content/ImagePictures.Dashboard/dashboard.css", cut.Find("link").GetAttribute("href"));
    }

    [Fact]
    public void The_page_offers_no_way_to_control_jobs()
    {
        Fake.WithDefaultJobs();

        var cut = Render<DashboardPage>();

        // Every button on the page belongs to the staged uploads; jobs are run and paused in the Hangfire dashboard.
        Assert.All(cut.FindAll("button"), b => Assert.NotNull(b.Closest(".ipd-uploads")));
        Assert.Empty(cut.Find("[data-testid=job-status]").QuerySelectorAll("button, form, input"));
    }

    [Fact]
    public void Cleanup_refreshes_storage_summary()
    {
        Fake.WithDefaultJobs();
        var cut = Render<DashboardPage>();
        Fake.Summary = new StorageSummaryView(5, 100, 0, 2048);

        cut.Find("[data-testid=cleanup-old]").Click();

        cut.WaitForAssertion(() => Assert.Equal("2.0 KB", cut.Find("[data-testid=bytes]").TextContent));
    }

    [Fact]
    public void Service_errors_are_shown_instead_of_crashing()
    {
        Fake.Failures["GetJobsAsync"] = new InvalidOperationException("jobs unavailable");
        Fake.Failures["GetStorageSummaryAsync"] = new InvalidOperationException("summary unavailable");

        var cut = Render<DashboardPage>();

        var errors = cut.FindAll("[data-testid=error]").Select(e => e.TextContent).ToList();
        Assert.Contains(errors, e => e.Contains("jobs unavailable"));
        Assert.Contains(errors, e => e.Contains("summary unavailable"));
        Assert.Equal("ImagePictures admin", cut.Find("h1").TextContent);
        Assert.NotNull(cut.Find("[data-testid=jobs-dashboard-link]")); // the way to the jobs stays
        Assert.NotNull(cut.Find("[data-testid=cleanup-old]")); // the rest of the page still works
    }
}

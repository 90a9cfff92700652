using Bunit;
using ImagePictures.Dashboard;

namespace ImagePictures.Dashboard.Tests;

public class DashboardPageTests : DashboardTestBase
{
    [Fact]
    public void First_render_lists_jobs_summary_and_history_of_first_job()
    {
        Fake.WithDefaultJobs();
        Fake.Runs["trash-purge"] = FakeAdminDashboardService.MakeRuns("trash-purge", 4);

        var cut = RenderComponent<DashboardPage>();

        Assert.Equal("ImagePictures admin", cut.Find("h1").TextContent);
        Assert.Equal(["trash-purge", "staging-cleanup"],
            cut.FindAll("[data-testid=job-row]").Select(r => r.GetAttribute("data-job")));
        Assert.Equal("trash-purge", cut.Find("[data-testid=run-history]").GetAttribute("data-job"));
        Assert.Equal(8, cut.FindAll("[data-testid=run-chart] rect").Count);
        Assert.Equal("12.3 MB", cut.Find("[data-testid=bytes]").TextContent);
        Assert.Equal("120", cut.Find("[data-testid=live-pictures]").TextContent);
        Assert.NotNull(cut.Find("[data-testid=cleanup-old]"));
        Assert.Equal(1, Fake.CallCount("GetJobsAsync")); // the page loads once and hands the list down
        Assert.Equal("_content/ImagePictures.Dashboard/dashboard.css", cut.Find("link").GetAttribute("href"));
    }

    [Fact]
    public void Selecting_a_job_shows_its_history()
    {
        Fake.WithDefaultJobs();
        Fake.Runs["staging-cleanup"] = FakeAdminDashboardService.MakeRuns("staging-cleanup", 2);
        var cut = RenderComponent<DashboardPage>();

        cut.Find("[data-job='staging-cleanup'] [data-testid=select]").Click();

        cut.WaitForAssertion(() =>
            Assert.Equal("staging-cleanup", cut.Find("[data-testid=run-history]").GetAttribute("data-job")));
        Assert.Equal(2, cut.FindAll("[data-testid=run-row]").Count);
    }

    [Fact]
    public void Pause_in_page_updates_row()
    {
        Fake.WithDefaultJobs();
        var cut = RenderComponent<DashboardPage>();

        cut.Find("[data-job='trash-purge'] [data-testid=pause]").Click();

        cut.WaitForAssertion(() => Assert.NotNull(cut.Find("[data-job='trash-purge'] [data-testid=resume]")));
        Assert.Equal("trash-purge paused", cut.Find("[data-testid=job-message]").TextContent);
    }

    [Fact]
    public void Triggering_selected_job_refreshes_its_history()
    {
        Fake.WithDefaultJobs();
        var cut = RenderComponent<DashboardPage>();
        Assert.Equal(1, Fake.CallCount("GetRunsAsync"));

        cut.Find("[data-job='trash-purge'] [data-testid=trigger]").Click();

        cut.WaitForAssertion(() => Assert.Equal(2, Fake.CallCount("GetRunsAsync")));
    }

    [Fact]
    public void Cleanup_refreshes_storage_summary()
    {
        Fake.WithDefaultJobs();
        var cut = RenderComponent<DashboardPage>();
        Fake.Summary = new StorageSummaryView(5, 100, 0, 2048);

        cut.Find("[data-testid=cleanup-old]").Click();

        cut.WaitForAssertion(() => Assert.Equal("2.0 KB", cut.Find("[data-testid=bytes]").TextContent));
    }

    [Fact]
    public void Service_errors_are_shown_instead_of_crashing()
    {
        Fake.Failures["GetJobsAsync"] = new InvalidOperationException("jobs unavailable");
        Fake.Failures["GetStorageSummaryAsync"] = new InvalidOperationException("summary unavailable");

        var cut = RenderComponent<DashboardPage>();

        var errors = cut.FindAll("[data-testid=error]").Select(e => e.TextContent).ToList();
        Assert.Contains(errors, e => e.Contains("jobs unavailable"));
        Assert.Contains(errors, e => e.Contains("summary unavailable"));
        Assert.Equal("ImagePictures admin", cut.Find("h1").TextContent);
        Assert.NotNull(cut.Find("[data-testid=cleanup-old]")); // the rest of the page still works
    }
}

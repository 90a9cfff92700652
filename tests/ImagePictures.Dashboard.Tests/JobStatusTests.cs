using Bunit;
using ImagePictures.Dashboard;

namespace ImagePictures.Dashboard.Tests;

[Trait("Category", "Unit")]
public class JobStatusTests : DashboardTestBase
{
    public JobStatusTests() => Fake.WithDefaultJobs();

    private static string Line(string job) => $"[data-testid=job-line][data-job='{job}']";

    [Fact]
    public void One_read_only_line_per_job_with_state_next_run_and_last_result()
    {
        var cut = Render<JobStatus>();

        var purge = cut.Find(Line("trash-purge"));
        Assert.Equal("active", purge.QuerySelector("[data-testid=state]")!.TextContent);
        Assert.Equal("2026-11-24 03:00:00 UTC", purge.QuerySelector("[data-testid=next-run]")!.TextContent);
        Assert.Equal("partial 2026-11-23 12:01:00 UTC (10 found, 8 deleted, 2 failed)", purge.QuerySelector("[data-testid=last-result]")!.TextContent);

        var staging = cut.Find(Line("staging-cleanup"));
        Assert.Equal("paused", staging.QuerySelector("[data-testid=state]")!.TextContent);
        Assert.Equal("—", staging.QuerySelector("[data-testid=next-run]")!.TextContent);
        Assert.Equal("—", staging.QuerySelector("[data-testid=last-result]")!.TextContent);
        Assert.Empty(cut.FindAll("button"));
    }

    [Fact]
    public void Links_to_the_jobs_dashboard()
    {
        var cut = Render<JobStatus>(p => p.Add(c => c.DashboardUrl, "/jobs-elsewhere"));
        Assert.Equal("/jobs-elsewhere", cut.Find("[data-testid=jobs-dashboard-link]").GetAttribute("href"));
    }

    [Fact]
    public void A_failure_to_load_is_shown_as_a_message()
    {
        Fake.Failures["GetJobsAsync"] = new InvalidOperationException("storage down");
        var cut = Render<JobStatus>();
        Assert.Contains("storage down", cut.Find("[data-testid=error]").TextContent);
    }
}

using Bunit;
using ImagePictures.Dashboard;

namespace ImagePictures.Dashboard.Tests;

public class JobTableTests : DashboardTestBase
{
    public JobTableTests() => Fake.WithDefaultJobs();

    private static string Row(string job) => $"[data-testid=job-row][data-job='{job}']";

    [Fact]
    public void Renders_one_row_per_job_with_cron_next_run_and_state()
    {
        var cut = RenderComponent<JobTable>();

        var rows = cut.FindAll("[data-testid=job-row]");
        Assert.Equal(2, rows.Count);
        Assert.Equal(["trash-purge", "staging-cleanup"], rows.Select(r => r.GetAttribute("data-job")));

        var purge = cut.Find(Row("trash-purge"));
        Assert.Equal("0 0 3 * * ?", purge.QuerySelector("[data-testid=cron]")!.TextContent);
        Assert.Equal("2026-11-24 03:00:00 UTC", purge.QuerySelector("[data-testid=next-run]")!.TextContent);
        Assert.Equal("active", purge.QuerySelector("[data-testid=state]")!.TextContent.Trim());
        var last = purge.QuerySelector("[data-testid=last-result]")!.TextContent;
        Assert.Contains("partial", last);
        Assert.Contains("10 / 8 / 2", last);
        Assert.Contains("2 files locked", last);
        Assert.NotNull(purge.QuerySelector("[data-testid=pause]"));
        Assert.Null(purge.QuerySelector("[data-testid=resume]"));

        var staging = cut.Find(Row("staging-cleanup"));
        Assert.Equal("—", staging.QuerySelector("[data-testid=next-run]")!.TextContent);
        Assert.Equal("paused", staging.QuerySelector("[data-testid=state]")!.TextContent.Trim());
        Assert.NotNull(staging.QuerySelector("[data-testid=resume]"));
        Assert.Null(staging.QuerySelector("[data-testid=pause]"));
    }

    [Fact]
    public void Run_now_triggers_that_job_and_shows_message()
    {
        var cut = RenderComponent<JobTable>();

        cut.Find($"{Row("staging-cleanup")} [data-testid=trigger]").Click();

        cut.WaitForAssertion(() =>
            Assert.Equal("staging-cleanup triggered", cut.Find("[data-testid=job-message]").TextContent));
        Assert.Contains("TriggerAsync(staging-cleanup)", Fake.Calls);
        Assert.DoesNotContain("TriggerAsync(trash-purge)", Fake.Calls);
    }

    [Fact]
    public void Pause_calls_service_then_row_shows_resume_after_reload()
    {
        var cut = RenderComponent<JobTable>();
        Assert.Equal(1, Fake.CallCount("GetJobsAsync"));

        cut.Find($"{Row("trash-purge")} [data-testid=pause]").Click();

        cut.WaitForAssertion(() =>
        {
            var row = cut.Find(Row("trash-purge"));
            Assert.NotNull(row.QuerySelector("[data-testid=resume]"));
            Assert.Null(row.QuerySelector("[data-testid=pause]"));
            Assert.Equal("paused", row.QuerySelector("[data-testid=state]")!.TextContent.Trim());
        });
        Assert.Contains("PauseAsync(trash-purge)", Fake.Calls);
        Assert.Equal(2, Fake.CallCount("GetJobsAsync"));
        Assert.Equal("trash-purge paused", cut.Find("[data-testid=job-message]").TextContent);
    }

    [Fact]
    public void Resume_calls_service_then_row_shows_pause()
    {
        var cut = RenderComponent<JobTable>();

        cut.Find($"{Row("staging-cleanup")} [data-testid=resume]").Click();

        cut.WaitForAssertion(() =>
            Assert.NotNull(cut.Find(Row("staging-cleanup")).QuerySelector("[data-testid=pause]")));
        Assert.Contains("ResumeAsync(staging-cleanup)", Fake.Calls);
        Assert.DoesNotContain(Fake.Calls, c => c.StartsWith("PauseAsync"));
    }

    [Fact]
    public void Load_error_is_shown_as_message()
    {
        Fake.Failures["GetJobsAsync"] = new InvalidOperationException("database is down");

        var cut = RenderComponent<JobTable>();

        Assert.Contains("database is down", cut.Find("[data-testid=error]").TextContent);
        Assert.Empty(cut.FindAll("[data-testid=job-row]"));
    }

    [Fact]
    public void Trigger_error_is_shown_and_rows_stay()
    {
        Fake.Failures["TriggerAsync"] = new TimeoutException("scheduler unreachable");
        var cut = RenderComponent<JobTable>();

        cut.Find($"{Row("trash-purge")} [data-testid=trigger]").Click();

        cut.WaitForAssertion(() => Assert.Contains("scheduler unreachable", cut.Find("[data-testid=error]").TextContent));
        Assert.Empty(cut.FindAll("[data-testid=job-message]"));
        Assert.Equal(2, cut.FindAll("[data-testid=job-row]").Count);
    }
}

using System.Globalization;
using Bunit;
using ImagePictures.Dashboard;

namespace ImagePictures.Dashboard.Tests;

public class RunHistoryTests : DashboardTestBase
{
    private IRenderedComponent<RunHistory> Render(string job = "trash-purge") =>
        RenderComponent<RunHistory>(p => p.Add(c => c.JobName, job));

    private static double Height(AngleSharp.Dom.IElement rect) =>
        double.Parse(rect.GetAttribute("height")!, CultureInfo.InvariantCulture);

    [Fact]
    public void No_runs_shows_message_and_no_bars()
    {
        var cut = Render();

        Assert.Equal("No runs yet", cut.Find("[data-testid=no-runs]").TextContent);
        Assert.Empty(cut.FindAll("rect"));
        Assert.Empty(cut.FindAll("[data-testid=run-row]"));
        Assert.Equal(("trash-purge", 50), Assert.Single(Fake.RunQueries));
    }

    [Fact]
    public void Many_runs_shows_only_latest_50_with_fixed_width_chart()
    {
        Fake.Runs["trash-purge"] = FakeAdminDashboardService.MakeRuns("trash-purge", 200);
        var cut = Render();

        var svg = cut.Find("[data-testid=run-chart]");
        Assert.Equal("600", svg.GetAttribute("width"));
        Assert.Equal(100, svg.QuerySelectorAll("rect").Length);
        Assert.Equal(50, svg.QuerySelectorAll("rect.bar-deleted").Length);
        Assert.Equal(50, svg.QuerySelectorAll("rect.bar-failed").Length);

        var runIds = svg.QuerySelectorAll("rect.bar-deleted").Select(r => int.Parse(r.GetAttribute("data-run")!)).ToList();
        Assert.Equal(Enumerable.Range(151, 50), runIds); // most recent 50, oldest on the left

        var rows = cut.FindAll("[data-testid=run-row]");
        Assert.Equal(50, rows.Count);
        Assert.Equal("200", rows[0].GetAttribute("data-run")); // newest first in the table

        // every bar stays within the fixed width
        foreach (var rect in svg.QuerySelectorAll("rect"))
        {
            var x = double.Parse(rect.GetAttribute("x")!, CultureInfo.InvariantCulture);
            var w = double.Parse(rect.GetAttribute("width")!, CultureInfo.InvariantCulture);
            Assert.InRange(x + w, 0, 600);
        }
    }

    [Fact]
    public void Bars_get_narrower_with_more_runs()
    {
        Fake.Runs["a"] = FakeAdminDashboardService.MakeRuns("a", 5);
        Fake.Runs["b"] = FakeAdminDashboardService.MakeRuns("b", 40);
        var widthA = double.Parse(Render("a").Find("rect.bar-deleted").GetAttribute("width")!, CultureInfo.InvariantCulture);
        var widthB = double.Parse(Render("b").Find("rect.bar-deleted").GetAttribute("width")!, CultureInfo.InvariantCulture);
        Assert.True(widthB < widthA);
    }

    [Fact]
    public void Bar_heights_are_proportional_and_largest_deleted_is_tallest()
    {
        // deleted = i (1..50, run 50 is largest), failed = 5 for every run
        Fake.Runs["trash-purge"] = FakeAdminDashboardService.MakeRuns("trash-purge", 50, deleted: i => i, failed: _ => 5);
        var cut = Render();

        var deleted = cut.FindAll("rect.bar-deleted");
        var failed = cut.FindAll("rect.bar-failed");
        var tallest = deleted.MaxBy(Height)!;
        Assert.Equal("50", tallest.GetAttribute("data-run"));
        Assert.True(deleted.All(r => r == tallest || Height(r) < Height(tallest)));

        var max = Height(tallest);
        Assert.True(max > 50, "tallest bar should use most of the plot height");
        foreach (var rect in deleted)
        {
            var value = int.Parse(rect.GetAttribute("data-run")!); // deleted == run id here
            Assert.Equal(max * value / 50, Height(rect), 1);
        }
        foreach (var rect in failed)
        {
            Assert.Equal(max * 5 / 50, Height(rect), 1);
        }

        // bars stand on the same baseline, and tooltips carry the numbers
        var bottoms = deleted.Concat(failed)
            .Select(r => Math.Round(double.Parse(r.GetAttribute("y")!, CultureInfo.InvariantCulture) + Height(r), 1))
            .Distinct().ToList();
        Assert.Single(bottoms);
        Assert.Contains("deleted 50", tallest.QuerySelector("title")!.TextContent);
        Assert.Contains("failed 5", failed[0].QuerySelector("title")!.TextContent);
    }

    [Fact]
    public void All_zero_runs_render_zero_height_bars()
    {
        Fake.Runs["trash-purge"] = FakeAdminDashboardService.MakeRuns("trash-purge", 3, deleted: _ => 0, failed: _ => 0);
        var cut = Render();
        var rects = cut.FindAll("rect");
        Assert.Equal(6, rects.Count);
        Assert.All(rects, r => Assert.Equal(0, Height(r)));
    }

    [Fact]
    public void Changing_job_name_reloads_runs()
    {
        Fake.Runs["a"] = FakeAdminDashboardService.MakeRuns("a", 3);
        var cut = Render("a");
        Assert.Equal(3, cut.FindAll("[data-testid=run-row]").Count);

        cut.SetParametersAndRender(p => p.Add(c => c.JobName, "b"));

        Assert.Equal("No runs yet", cut.Find("[data-testid=no-runs]").TextContent);
        Assert.Equal(["a", "b"], Fake.RunQueries.Select(q => q.Job));
    }

    [Fact]
    public void Load_error_is_shown_as_message()
    {
        Fake.Failures["GetRunsAsync"] = new InvalidOperationException("query timeout");
        var cut = Render();

        Assert.Contains("query timeout", cut.Find("[data-testid=error]").TextContent);
        Assert.Empty(cut.FindAll("rect"));
    }
}

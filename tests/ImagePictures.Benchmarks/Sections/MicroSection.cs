using ImagePictures.Benchmarks.Harness;

namespace ImagePictures.Benchmarks.Sections;

/// <summary>BenchmarkDotNet ShortRun of the imaging pipeline (full runs only), in a child process; its table joins the report.</summary>
public sealed class MicroSection() : Section("micro")
{
    public override bool FullOnly => true;

    public override async Task RunAsync(BenchContext ctx, Report report)
    {
        BenchContext.Log("micro: BenchmarkDotNet ShortRun (imaging pipeline)");
        var artifacts = Path.Combine(ctx.Work, "bdn");
        try
        {
            await ChildProcess.RunAsync(ctx.Cleanup, "dotnet", [ctx.BenchmarkDll, "micro", "--filter", "*"],
                new Dictionary<string, string> { ["BENCH_ARTIFACTS"] = artifacts });
        }
        catch (InvalidOperationException e)
        {
            report.Add(new BenchRow("micro (imaging pipeline)", "failed: " + e.Message.Replace('\n', ' ').Replace('|', '/'), "—", null, "for profiling", Outcome.Failed));
            return;
        }
        var results = Path.Combine(artifacts, "results");
        report.MicroMarkdown = Directory.Exists(results)
            ? string.Join('\n', Directory.GetFiles(results, "*-report-github.md").Select(File.ReadAllText))
            : null;
        report.Add(new BenchRow("micro (imaging pipeline)", "see the BenchmarkDotNet table below", "—", null, "for profiling", Outcome.Done));
    }
}

using ImagePictures.Api.Hosting;
using ImagePictures.Benchmarks.Harness;
using ImagePictures.Benchmarks.Sections;

// The benchmark reads /proc and starts nginx, wrk and Linux daemons.
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace ImagePictures.Benchmarks;

/// <summary>
/// The benchmark (scripts/bench.sh [--quick] [--only a,b] [--out file]): starts PostgreSQL, the service and each
/// section's baselines, runs the sections, and writes the report as Markdown and JSON. Also the entry point of
/// its own measuring children ("child …") and of the BenchmarkDotNet micro benchmarks ("micro …").
/// Not top-level statements: the service's own Program class must keep its name (ServiceProcess finds the
/// service's assembly through it).
/// </summary>
public static class BenchmarkProgram
{
    public static async Task<int> Main(string[] args)
    {
        switch (args.FirstOrDefault())
        {
            case "micro": return Micro.Run(args[1..]);
            case "child": return await MeasuringChild.MainAsync(args[1..]);
        }
        var repo = RepositoryRoot.Find();
        if (BenchOptions.Parse(args, repo) is not { } options)
        {
            Console.Error.WriteLine(BenchOptions.Usage);
            return 2;
        }
        // The wrapper passes its start time, so that the total includes setup and build, as it always has.
        var startedAt = long.TryParse(Environment.GetEnvironmentVariable("BENCH_T0"), out var t0)
            ? DateTimeOffset.FromUnixTimeSeconds(t0) : DateTimeOffset.UtcNow;
        BenchContext.StartedAt = startedAt;
        var report = new Report(startedAt);
        var exit = 0;
        using var cleanup = new Cleanup();
        try
        {
            try
            {
                var ctx = await BenchContext.StartAsync(options, cleanup, repo);
                var previous = "start";
                foreach (var section in Section.All.Where(s => options.Wants(s.Name) && !(s.FullOnly && options.Quick)))
                {
                    ctx.CheckService(previous);
                    try { await section.RunAsync(ctx, report); }
                    catch (Exception e) when (e is not OutOfMemoryException)
                    {
                        Console.Error.WriteLine($"bench: section {section.Name} failed: {e}");
                        report.Add(new BenchRow(section.Name, "failed: " + OneLine(e.Message), "—", null, "—", Outcome.Failed));
                    }
                    previous = section.Name;
                }
                ctx.CheckService(previous);
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"bench: {e}");
                exit = 1;
            }

            // The report comes before the stops (deleting the work folder's files takes a while on a busy disk).
            var seconds = (int)(DateTimeOffset.UtcNow - startedAt).TotalSeconds;
            var markdown = report.Markdown(options, repo, seconds);
            var jsonPath = Path.ChangeExtension(options.OutPath, ".json");
            await File.WriteAllTextAsync(options.OutPath, markdown);
            await File.WriteAllTextAsync(jsonPath, report.Json(options, repo, seconds));
            Console.WriteLine();
            Console.WriteLine(markdown);
            Console.WriteLine($"report: {options.OutPath} and {jsonPath}");
            Console.WriteLine($"total time: {seconds} s ({options.Mode})");
        }
        finally
        {
            BenchContext.Log("stopping everything the benchmark started");
            cleanup.StopAll();
        }
        return exit;
    }

    private static string OneLine(string text) => text.Split('\n')[0].Replace('|', '/');
}

using System.Globalization;
using System.Text.RegularExpressions;

namespace ImagePictures.Benchmarks.Harness;

/// <summary>wrk (2 threads, 64 connections, WebP accepted), its summary read into numbers.</summary>
public static partial class Wrk
{
    public sealed record Result(double Rps, string P50, string P99, long NonOk, long Requests);

    /// <param name="pathsFile">replay the paths in this file through wrk-paths.lua (the url is then the service's root)</param>
    public static async Task<Result> RunAsync(BenchContext ctx, string url, int seconds, IEnumerable<string>? headers = null, string? pathsFile = null)
    {
        List<string> args = ["-t2", "-c64", "--latency", "-d", $"{seconds}s", "-H", "Accept: image/webp"];
        foreach (var h in headers ?? []) args.AddRange(["-H", h]);
        Dictionary<string, string>? env = null;
        if (pathsFile is not null)
        {
            args.AddRange(["-s", Path.Combine(ctx.Repo, "tests", "ImagePictures.Benchmarks", "wrk-paths.lua")]);
            env = new() { ["WRK_PATHS"] = pathsFile };
        }
        args.Add(url);
        return Parse(await ChildProcess.RunAsync(ctx.Cleanup, "wrk", args, env));
    }

    /// <summary>A 2 s warm-up, then the measured run.</summary>
    public static async Task<Result> WarmAndRunAsync(BenchContext ctx, string url, params string[] headers)
    {
        await RunAsync(ctx, url, 2, headers);
        return await RunAsync(ctx, url, ctx.Options.WrkSeconds, headers);
    }

    public static Result Parse(string output)
    {
        string Match(Regex r) => r.Match(output) is { Success: true } m ? m.Groups[1].Value : "";
        return new Result(
            double.TryParse(Match(Rps()), CultureInfo.InvariantCulture, out var rps) ? rps : double.NaN,
            Match(P50()), Match(P99()),
            long.TryParse(Match(NonOk()), out var bad) ? bad : 0,
            long.TryParse(Match(Requests()), out var n) ? n : 0);
    }

    [GeneratedRegex(@"Requests/sec:\s+([\d.]+)")] private static partial Regex Rps();
    [GeneratedRegex(@"(?m)^\s+50%\s+(\S+)")] private static partial Regex P50();
    [GeneratedRegex(@"(?m)^\s+99%\s+(\S+)")] private static partial Regex P99();
    [GeneratedRegex(@"Non-2xx or 3xx responses:\s+(\d+)")] private static partial Regex NonOk();
    [GeneratedRegex(@"(?m)^\s+(\d+) requests in ")] private static partial Regex Requests();
}

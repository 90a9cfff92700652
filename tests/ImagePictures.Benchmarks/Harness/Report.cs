using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ImagePictures.Benchmarks.Harness;

/// <summary>The rows in the order they were measured, written as a Markdown table and as JSON next to it.</summary>
public sealed class Report(DateTimeOffset startedAt)
{
    private readonly List<BenchRow> _rows = [];
    private readonly DateTimeOffset _startedAt = startedAt;

    public IReadOnlyList<BenchRow> Rows => _rows;
    public string? MicroMarkdown { get; set; }

    public void Add(BenchRow row)
    {
        _rows.Add(row);
        BenchContext.Log($"{row.Name}: {row.Ours} | {row.Baseline} | {row.RatioText} | {row.Goal} | {row.ResultText}");
    }

    public string Markdown(BenchOptions options, string repo, int seconds)
    {
        var md = new StringBuilder();
        md.AppendLine($"# ImagePictures benchmarks ({options.Mode})").AppendLine();
        md.AppendLine($"- date: {_startedAt:yyyy-MM-ddTHH:mm:ssZ} (took {seconds} s)");
        md.AppendLine($"- machine: {Machine()}; load average at the end: {LoadAverage()}");
        md.AppendLine($"- commit: {Commit(repo)}");
        md.AppendLine("- every baseline was measured in the same run on the same machine").AppendLine();
        md.AppendLine("| benchmark | ours | baseline (same run) | ratio | goal | result |");
        md.AppendLine("|---|---|---|---|---|---|");
        foreach (var r in _rows) md.AppendLine($"| {r.Name} | {r.Ours} | {r.Baseline} | {r.RatioText} | {r.Goal} | {r.ResultText} |");
        if (MicroMarkdown is { Length: > 0 })
        {
            md.AppendLine().AppendLine("## Micro benchmarks (BenchmarkDotNet, ShortRun, in-process)").AppendLine();
            md.AppendLine(MicroMarkdown);
        }
        return md.ToString();
    }

    public string Json(BenchOptions options, string repo, int seconds) => JsonSerializer.Serialize(new
    {
        mode = options.Mode,
        startedAt = _startedAt,
        seconds,
        machine = Machine(),
        loadAverage = LoadAverage(),
        commit = Commit(repo),
        rows = _rows.Select(r => new
        {
            name = r.Name, ours = r.Ours, value = Finite(r.Value), unit = r.Unit, baseline = r.Baseline, baselineValue = Finite(r.BaselineValue),
            ratio = Finite(r.Ratio), ratioText = r.RatioText, goal = r.Goal, result = r.ResultText, met = r.Result switch { Outcome.Met => true, Outcome.Missed => (bool?)false, _ => null },
        }),
    }, new JsonSerializerOptions
    {
        WriteIndented = true, DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // × and ≥ as they are
    });

    private static double? Finite(double? v) => v is { } d && double.IsFinite(d) ? Math.Round(d, 4) : null;

    private static string Machine()
    {
        var cpu = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"))?.Split(':', 2)[1].Trim() ?? "unknown CPU";
        var memKb = long.Parse(File.ReadLines("/proc/meminfo").First(l => l.StartsWith("MemTotal")).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        return $"{Environment.ProcessorCount} cores ({cpu}), {memKb / 1024} MB memory";
    }

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static string Commit(string repo)
    {
        string Git(params string[] args)
        {
            using var p = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("git", ["-C", repo, .. args])
            { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false })!;
            var output = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return p.ExitCode == 0 ? output : "changed";
        }
        var head = Git("rev-parse", "--short", "HEAD");
        var dirty = Git("diff", "--quiet", "HEAD", "--", "src", "tests", "scripts") == "changed";
        return head + (dirty ? " (with local changes)" : "");
    }
}

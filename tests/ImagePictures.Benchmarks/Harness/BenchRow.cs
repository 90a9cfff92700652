namespace ImagePictures.Benchmarks.Harness;

/// <summary>How a row ended: a goal met or missed, or a figure kept for reference (done, incomplete, failed, skipped).</summary>
public enum Outcome { Met, Missed, Done, Incomplete, Failed, Skipped }

/// <summary>
/// One line of the report: what was measured (<see cref="Ours"/> as the table shows it, <see cref="Value"/> as a
/// number), the baseline measured in the same run, their ratio, the goal and whether it was met.
/// </summary>
public sealed record BenchRow(
    string Name,
    string Ours,
    string Baseline,
    double? Ratio,
    string Goal,
    Outcome Result,
    double? Value = null,
    double? BaselineValue = null,
    string? Unit = null,
    string RatioPrefix = "",
    string RatioSuffix = "×")
{
    public string RatioText => Ratio is { } r ? $"{RatioPrefix}{r:0.00}{RatioSuffix}" : "—";

    public string ResultText => Result switch
    {
        Outcome.Met => "met",
        Outcome.Missed => "MISSED",
        Outcome.Incomplete => "INCOMPLETE",
        _ => Result.ToString().ToLowerInvariant(),
    };

    public static Outcome MetIf(bool met) => met ? Outcome.Met : Outcome.Missed;

    /// <summary>a / b, or null when there is no baseline to divide by (the table shows "—").</summary>
    public static double? Divide(double a, double b) => b > 0 && !double.IsNaN(a) ? a / b : null;

    public static BenchRow Failure(string name, string why, string goal, Outcome result = Outcome.Missed) =>
        new(name, "failed: " + why, "—", null, goal, result);
}

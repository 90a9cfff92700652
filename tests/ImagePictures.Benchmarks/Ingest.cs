using System.Diagnostics;
using ImagePictures.Imaging;

namespace ImagePictures.Benchmarks;

/// <summary>
/// Uploads/s of the 12 MP JPEG: in-process pipeline (baseline) versus the service over HTTP. Both first run
/// the same loop for <c>warmupSeconds</c> without counting it: a freshly started service spends its first
/// 20 s or so re-compiling hot code (the tiered JIT took a quarter of its CPU in that time), which is start-up
/// cost, not ingest cost.
/// </summary>
public static class Ingest
{
    /// <summary>A timed loop's outcome: operations per second, latencies, failed operations.</summary>
    public sealed record LoopResult(double Rate, int Count, double Seconds, double P50Ms, double P99Ms, int Errors);

    /// <summary>Peak RSS (VmHWM, reset before the burst when the kernel allows it) during a burst of work.</summary>
    public sealed record MemoryResult(double PeakMb, double RssBeforeMb, double RssAfterMb, int Ok, int Failed, double Seconds, bool PeakReset);

    public static async Task<LoopResult> BaselineAsync(string jpegPath, double seconds, int threads, double warmupSeconds)
    {
        var jpeg = await File.ReadAllBytesAsync(jpegPath);
        using var pipeline = new ImagePipeline(new ImagingOptions());
        await LoopAsync(threads, warmupSeconds, (_, _) => pipeline.NormalizeAsync(jpeg));
        var (count, elapsed, latencies) = await LoopAsync(threads, seconds, (_, _) => pipeline.NormalizeAsync(jpeg));
        return Report(count, elapsed, latencies, errors: 0);
    }

    public static async Task<LoopResult> HttpAsync(string url, string jpegPath, double seconds, int clients, double warmupSeconds)
    {
        var jpeg = await File.ReadAllBytesAsync(jpegPath);
        using var http = Drivers.Client(url);
        var tokens = new string[clients];
        for (var i = 0; i < clients; i++)
        {
            tokens[i] = await Drivers.TokenAsync(http, $"bench-ingest-{i}");
        }
        await LoopAsync(clients, warmupSeconds, (client, _) => Drivers.UploadAsync(http, tokens[client], $"bench-ingest-{client}", jpeg, activate: false));
        var errors = 0;
        var (count, elapsed, latencies) = await LoopAsync(clients, seconds, async (client, ct) =>
        {
            try { await Drivers.UploadAsync(http, tokens[client], $"bench-ingest-{client}", jpeg, activate: false); }
            catch (HttpRequestException e) { Interlocked.Increment(ref errors); Console.Error.WriteLine(e.Message); throw; }
        });
        return Report(count, elapsed, latencies, errors);
    }

    /// <summary>Peak RSS of <paramref name="pid"/> during <paramref name="concurrent"/> simultaneous uploads.</summary>
    public static async Task<MemoryResult> MemoryAsync(string url, string jpegPath, int pid, int concurrent)
    {
        var jpeg = await File.ReadAllBytesAsync(jpegPath);
        using var http = Drivers.Client(url);
        var tokens = new List<string>();
        for (var i = 0; i < concurrent; i++) tokens.Add(await Drivers.TokenAsync(http, $"bench-mem-{i}"));
        var before = Status(pid);
        // Writing 5 to clear_refs resets VmHWM to the current RSS, so the peak is this burst's, not the earlier runs'.
        var reset = TryResetPeak(pid);
        var sw = Stopwatch.StartNew();
        var results = await Task.WhenAll(Enumerable.Range(0, concurrent).Select(async i =>
        {
            try { await Drivers.UploadAsync(http, tokens[i], $"bench-mem-{i}", jpeg, activate: false); return true; }
            catch (HttpRequestException e) { Console.Error.WriteLine(e.Message); return false; }
        }));
        var after = Status(pid);
        return new MemoryResult(after.HwmKb / 1024.0, before.RssKb / 1024.0, after.RssKb / 1024.0,
            results.Count(r => r), results.Count(r => !r), sw.Elapsed.TotalSeconds, reset);
    }

    internal static bool TryResetPeak(int pid)
    {
        try { File.WriteAllText($"/proc/{pid}/clear_refs", "5"); return true; }
        catch (Exception) { return false; }
    }

    internal static (long HwmKb, long RssKb) Status(int pid)
    {
        long hwm = 0, rss = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmHWM:")) hwm = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
            if (line.StartsWith("VmRSS:")) rss = long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1]);
        }
        return (hwm, rss);
    }

    /// <summary>Runs <paramref name="workers"/> loops until the time is up; counts only operations that finished in time.</summary>
    public static Task<(int Count, TimeSpan Elapsed, List<double> LatenciesMs)> TimedLoopAsync(int workers, double seconds, Func<Task> op) =>
        LoopAsync(workers, seconds, (_, _) => op());

    internal static async Task<(int Count, TimeSpan Elapsed, List<double> LatenciesMs)> LoopAsync(int workers, double seconds, Func<int, CancellationToken, Task> op)
    {
        var latencies = new List<double>();
        var sw = Stopwatch.StartNew();
        var deadline = TimeSpan.FromSeconds(seconds);
        var lastEnd = TimeSpan.Zero;
        await Task.WhenAll(Enumerable.Range(0, workers).Select(w => Task.Run(async () =>
        {
            while (sw.Elapsed < deadline)
            {
                var start = sw.Elapsed;
                await op(w, CancellationToken.None);
                var end = sw.Elapsed;
                lock (latencies)
                {
                    latencies.Add((end - start).TotalMilliseconds);
                    if (end > lastEnd) lastEnd = end;
                }
            }
        })));
        // Every started operation is completed and counted; the rate uses the time until the last one ended.
        return (latencies.Count, lastEnd, latencies);
    }

    internal static LoopResult Report(int count, TimeSpan elapsed, List<double> latencies, int errors)
    {
        latencies.Sort();
        return new LoopResult(count / elapsed.TotalSeconds, count, elapsed.TotalSeconds, Percentile(latencies, 0.50), Percentile(latencies, 0.99), errors);
    }

    public static double Percentile(List<double> sorted, double p) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];
}

using System.Collections.Concurrent;
using System.Diagnostics;
using Xunit;

namespace ImagePictures.Testing;

/// <summary>
/// The load an outage test keeps on a service while a dependency goes away and comes back: each call
/// is recorded with its start, duration, status, Retry-After and error, so the test can check that every
/// request got a clear answer (2xx, or 503 with Retry-After and problem details) and when uploads recovered.
/// </summary>
public sealed class OutageLoad
{
    public sealed record Sample(string Op, double StartedAt, double Seconds, int Status, string? RetryAfter, string? ContentType, string? Error, string? Body);

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly ConcurrentQueue<Sample> _samples = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _loops = [];

    /// <summary>Seconds since the load was created: the time axis of every sample.</summary>
    public double Now => _clock.Elapsed.TotalSeconds;
    public IReadOnlyList<Sample> Samples => _samples.ToList();

    /// <summary>Sends one request and records its answer (or the error that took its place).</summary>
    public async Task<HttpResponseMessage?> CallAsync(HttpClient client, string op, Func<HttpClient, Task<HttpResponseMessage>> send)
    {
        var started = Now;
        try
        {
            var response = await send(client);
            var body = (int)response.StatusCode >= 400 ? await response.Content.ReadAsStringAsync() : null;
            _samples.Enqueue(new Sample(op, started, Now - started, (int)response.StatusCode,
                response.Headers.RetryAfter?.ToString(), response.Content.Headers.ContentType?.MediaType, null, body));
            return response;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            _samples.Enqueue(new Sample(op, started, Now - started, 0, null, null, e.GetType().Name + ": " + e.Message, null));
            return null;
        }
    }

    /// <summary>Runs <paramref name="round"/> over and over, <paramref name="pause"/> apart, until <see cref="StopAsync"/>.</summary>
    public void Loop(Func<Task> round, TimeSpan pause) => _loops.Add(Task.Run(async () =>
    {
        while (!_stop.IsCancellationRequested)
        {
            await round();
            try { await Task.Delay(pause, _stop.Token); } catch (OperationCanceledException) { }
        }
    }));

    /// <summary>Asks /health/ready every 250 ms (op "ready").</summary>
    public void ProbeReadiness(HttpClient client) =>
        Loop(() => CallAsync(client, "ready", c => c.GetAsync("/health/ready")), TimeSpan.FromMilliseconds(250));

    /// <summary>When the first <paramref name="op"/> answered 201 that started after <paramref name="after"/>; null if none within 60 s.</summary>
    public async Task<double?> RecoveryAsync(string op, double after)
    {
        double? recoveredAt = null;
        try
        {
            await Wait.Eventually(() => (recoveredAt = _samples.Where(s => s.Op == op && s.Status == 201 && s.StartedAt > after)
                .Select(s => (double?)s.StartedAt + s.Seconds).Min()) is not null, $"{op} answered 201 after {after:0.0} s");
        }
        catch (TimeoutException) { }
        return recoveredAt;
    }

    /// <summary>Waits until each of <paramref name="ops"/> has been answered 5 more times from <paramref name="from"/> on, and returns those answers.</summary>
    public async Task<List<Sample>> AnswersFromAsync(double from, params string[] ops)
    {
        const int count = 5;
        await Wait.Eventually(() => ops.All(op => _samples.Count(s => s.Op == op && s.StartedAt >= from) >= count),
            $"each of {string.Join(", ", ops)} answered {count} times after {from:0.0} s");
        return _samples.Where(s => ops.Contains(s.Op) && s.StartedAt >= from).ToList();
    }

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
    }

    /// <summary>"op:status=count, …", for the test output.</summary>
    public string Counts() => string.Join(", ", _samples.GroupBy(s => $"{s.Op}:{s.Status}").OrderBy(g => g.Key).Select(g => $"{g.Key}={g.Count()}"));

    /// <summary>Every request was answered, with 2xx or with 503 + Retry-After + problem details.</summary>
    public void AssertEveryAnswerIsClear()
    {
        var all = Samples;
        var failures = all.Where(s => s.Error is not null).ToList();
        Assert.True(failures.Count == 0, "requests without an answer within the client's timeout:\n" + string.Join('\n', failures.Take(10)));
        var bad = all.Where(s => s.Status is not (>= 200 and < 300 or 503)).ToList();
        Assert.True(bad.Count == 0, "answers other than 2xx/503:\n" + string.Join('\n', bad.Take(10)));
        var badProblems = all.Where(s => s.Status == 503 && (s.RetryAfter is null || s.ContentType != "application/problem+json")).ToList();
        Assert.True(badProblems.Count == 0, "503 without Retry-After or problem details:\n" + string.Join('\n', badProblems.Take(10)));
    }
}

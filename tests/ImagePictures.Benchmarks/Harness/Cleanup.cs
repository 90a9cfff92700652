using System.Runtime.InteropServices;

namespace ImagePictures.Benchmarks.Harness;

/// <summary>
/// Everything the run started, stopped in reverse order: at the end, on failure (the caller's finally),
/// and on Ctrl-C or SIGTERM (the signal handler runs the same stops, then exits with 130).
/// Each stop runs once, whichever comes first.
/// </summary>
public sealed class Cleanup : IDisposable
{
    private readonly Stack<(string What, Action Stop)> _stops = new();
    private readonly object _gate = new();
    private readonly object _stopping = new(); // one StopAll at a time: a signal during the final stops waits for them
    private readonly List<PosixSignalRegistration> _signals = [];

    public Cleanup()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
            _signals.Add(PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                Console.Error.WriteLine($"bench: {context.Signal}, stopping everything it started");
                StopAll();
                Environment.Exit(130);
            }));
    }

    /// <summary>Registers how to stop something just started.</summary>
    public void Add(string what, Action stop)
    {
        lock (_gate) _stops.Push((what, stop));
    }

    public void StopAll()
    {
        lock (_stopping)
        {
            while (true)
            {
                (string What, Action Stop) next;
                lock (_gate)
                {
                    if (!_stops.TryPop(out next)) return;
                }
                try { next.Stop(); }
                catch (Exception e) { Console.Error.WriteLine($"bench: could not stop {next.What}: {e.Message}"); }
            }
        }
    }

    public void Dispose()
    {
        StopAll();
        foreach (var s in _signals) s.Dispose();
    }
}

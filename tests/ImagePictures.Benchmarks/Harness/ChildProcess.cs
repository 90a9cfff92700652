using System.Diagnostics;
using System.Text;

namespace ImagePictures.Benchmarks.Harness;

/// <summary>
/// A helper process of the benchmark (nginx, BareHub, wrk, node, a measuring child of this program): started
/// with its output captured, registered with <see cref="Cleanup"/> so that it is killed by its pid even when the
/// run fails, and awaited for its output when it is a one-shot tool.
/// </summary>
public sealed class ChildProcess
{
    private readonly Process _process;
    private readonly StringBuilder _stdout = new(), _stderr = new();
    private readonly string _name;

    private ChildProcess(Process process, string name)
    {
        _process = process;
        _name = name;
    }

    public int Pid => _process.Id;
    public bool HasExited => _process.HasExited;
    public string Stdout { get { lock (_stdout) return _stdout.ToString(); } }
    public string Stderr { get { lock (_stderr) return _stderr.ToString(); } }

    public static ChildProcess Start(Cleanup cleanup, string file, IEnumerable<string> args, IDictionary<string, string>? env = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        var process = new Process { StartInfo = psi };
        var child = new ChildProcess(process, Path.GetFileName(file));
        process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (child._stdout) child._stdout.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (child._stderr) child._stderr.AppendLine(e.Data); };
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        cleanup.Add($"{child._name} (pid {process.Id})", child.Stop);
        return child;
    }

    /// <summary>Runs a one-shot tool to its end; throws with its stderr when it fails.</summary>
    public static async Task<string> RunAsync(Cleanup cleanup, string file, IEnumerable<string> args, IDictionary<string, string>? env = null, string? workingDirectory = null)
    {
        var child = Start(cleanup, file, args, env, workingDirectory);
        await child._process.WaitForExitAsync();
        child._process.WaitForExit(); // drains the redirected output
        if (child._process.ExitCode != 0)
            throw new InvalidOperationException($"{child._name} exited with {child._process.ExitCode}: {Tail(child.Stderr + child.Stdout)}");
        return child.Stdout;
    }

    /// <summary>SIGTERM, up to 15 s to exit, then SIGKILL.</summary>
    public void Stop()
    {
        if (_process.HasExited) return;
        try
        {
            Posix.Kill(_process.Id, Posix.SigTerm);
            if (!_process.WaitForExit(15_000)) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { /* already gone */ }
    }

    public static string Tail(string text, int lines = 10) =>
        string.Join('\n', text.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(lines));
}

internal static class Posix
{
    public const int SigTerm = 15;
    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    public static extern int Kill(int pid, int signal);
}

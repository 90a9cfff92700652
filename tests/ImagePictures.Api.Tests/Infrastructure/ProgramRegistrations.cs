using System.Diagnostics;
using System.Reflection;
using Microsoft.Extensions.Hosting;

namespace ImagePictures.Api.Tests.Infrastructure;

/// <summary>
/// The services exactly as Program.cs registers them: runs the service's entry point on this thread up to
/// <c>builder.Build()</c>, takes the built host there and stops the entry point by throwing, as
/// WebApplicationFactory's own host resolver does, so that nothing after Build runs: no migrations, no
/// private PostgreSQL, no hosted service, no listener. (A WebApplicationFactory whose host is never
/// started still lets Program run on past Build, which started a private PostgreSQL under .data/ that
/// nothing stopped.)
/// </summary>
public sealed class ProgramRegistrations : IDisposable, IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>
{
    // The hosting listener is process-wide and other tests build hosts in parallel: only this thread's build is stopped.
    [ThreadStatic] private static ProgramRegistrations? _building;
    private readonly List<IDisposable> _subscriptions = [];
    private readonly IHost _host;

    public IServiceProvider Services => _host.Services;

    public ProgramRegistrations(string environment = "Development")
    {
        using var all = DiagnosticListener.AllListeners.Subscribe(this);
        _building = this;
        try
        {
            typeof(Program).Assembly.EntryPoint!.Invoke(null, [new[] { "--environment", environment }]);
            throw new InvalidOperationException("Program returned without building its host.");
        }
        catch (TargetInvocationException e) when (e.InnerException is BuiltException) { }
        finally
        {
            _building = null;
            foreach (var s in _subscriptions) s.Dispose();
        }
        _host = _built ?? throw new InvalidOperationException("The host was not captured.");
    }

    private IHost? _built;

    private sealed class BuiltException() : Exception("Stopped at builder.Build(): only the registrations are wanted.");

    void IObserver<DiagnosticListener>.OnNext(DiagnosticListener listener)
    {
        if (listener.Name == "Microsoft.Extensions.Hosting") _subscriptions.Add(listener.Subscribe(this));
    }

    void IObserver<KeyValuePair<string, object?>>.OnNext(KeyValuePair<string, object?> e)
    {
        if (_building != this || e.Key != "HostBuilt") return;
        _built = (IHost)e.Value!;
        throw new BuiltException();
    }

    void IObserver<DiagnosticListener>.OnCompleted() { }
    void IObserver<DiagnosticListener>.OnError(Exception error) { }
    void IObserver<KeyValuePair<string, object?>>.OnCompleted() { }
    void IObserver<KeyValuePair<string, object?>>.OnError(Exception error) { }

    public void Dispose() => _host.Dispose();
}

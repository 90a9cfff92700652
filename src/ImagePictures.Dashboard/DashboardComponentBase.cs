using Microsoft.AspNetCore.Components;

namespace ImagePictures.Dashboard;

/// <summary>
/// Common base for the dashboard components: injects the service and provides a
/// cancellation token that is cancelled when the component is disposed (e.g. the circuit closes).
/// </summary>
public abstract class DashboardComponentBase : ComponentBase, IDisposable
{
    private readonly CancellationTokenSource _cts = new();

    [Inject] protected IAdminDashboardService Service { get; set; } = default!;

    protected CancellationToken Ct => _cts.Token;

    /// <summary>Runs <paramref name="action"/> and turns any failure into a user-facing message.</summary>
    /// <returns>null on success, otherwise the message to show.</returns>
    protected async Task<string?> TryAsync(Func<Task> action, string what)
    {
        try
        {
            await action();
            return null;
        }
        catch (OperationCanceledException) when (_cts.IsCancellationRequested)
        {
            return null; // component went away; nothing to show
        }
        catch (Exception ex)
        {
            return $"{what} failed: {ex.Message}";
        }
    }

    public virtual void Dispose()
    {
        _cts.Cancel();
        _cts.Dispose();
        GC.SuppressFinalize(this);
    }
}

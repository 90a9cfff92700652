using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace ImagePictures.Api.Events;

/// <summary>
/// /health/ready's view of the dispatcher: degraded (the service stays ready: other services being
/// behind is no reason to stop answering) while the dispatcher or a sink cannot run, saying which.
/// The sinks' own errors may name a receiver, so they stay in the admin's lastError.
/// </summary>
public sealed class EventsHealthCheck(EventDispatcher dispatcher) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken ct)
    {
        if (dispatcher.DispatcherError is { } error) return Task.FromResult(HealthCheckResult.Degraded(error));
        var stopped = dispatcher.SinksThatCannotRun.Keys.Order().ToList();
        return Task.FromResult(stopped.Count == 0
            ? HealthCheckResult.Healthy()
            : HealthCheckResult.Degraded($"Event sinks cannot run: {string.Join(", ", stopped)}; their lastError (GET /api/admin/webhooks, the admin dashboard) says why"));
    }
}

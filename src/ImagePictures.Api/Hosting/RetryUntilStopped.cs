using Polly;
using Polly.Retry;

namespace ImagePictures.Api.Hosting;

/// <summary>The retry of a background service's start-up step: exponential back-off, no jitter, until it works or the service stops.</summary>
public static class RetryUntilStopped
{
    public static ResiliencePipeline Pipeline(TimeSpan first, TimeSpan max, Func<Exception, bool> handles, Action<Exception, TimeSpan> onRetry) =>
        new ResiliencePipelineBuilder().AddRetry(new RetryStrategyOptions
        {
            ShouldHandle = args => ValueTask.FromResult(
                args.Outcome.Exception is { } e && !args.Context.CancellationToken.IsCancellationRequested && handles(e)),
            MaxRetryAttempts = int.MaxValue,
            BackoffType = DelayBackoffType.Exponential,
            Delay = first,
            MaxDelay = max,
            UseJitter = false,
            OnRetry = args =>
            {
                onRetry(args.Outcome.Exception!, args.RetryDelay);
                return ValueTask.CompletedTask;
            },
        }).Build();
}

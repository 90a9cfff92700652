using System.Diagnostics;
using ImagePictures.Api.Auth;
using ImagePictures.Benchmarks.Harness;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Configuration;

namespace ImagePictures.Benchmarks.Sections;

/// <summary>
/// How soon the hub ends a connection whose token expires (the figure HubEventTests used to assert): a watcher
/// connects with a token that lives 3 s, and the time until the service closes the connection is measured.
/// </summary>
public sealed class HubSection() : Section("hub")
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(3);

    public override async Task RunAsync(BenchContext ctx, Report report)
    {
        BenchContext.Log($"hub: a connection with a token that expires after {Lifetime.TotalSeconds:0} s");
        // Tokens signed with the development key of the repository's settings, as POST /dev/token signs them,
        // but with a lifetime of seconds.
        var config = new ConfigurationBuilder()
            .AddJsonFile(Path.Combine(ctx.Repo, "appsettings.json"))
            .AddJsonFile(Path.Combine(ctx.Repo, "appsettings.Development.json"), optional: true)
            .Build();
        var auth = config.GetSection(AuthOptions.Section).Get<AuthOptions>() ?? new AuthOptions();
        var (token, _) = new DevTokens(Microsoft.Extensions.Options.Options.Create(auth)).Create("bench-expiring", lifetime: Lifetime);
        var started = Stopwatch.StartNew();
        await using var hub = new HubConnectionBuilder()
            .WithUrl(ctx.ServiceUrl + "/hubs/pictures", o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
            .Build();
        var closed = new TaskCompletionSource<double>(TaskCreationOptions.RunContinuationsAsynchronously);
        hub.Closed += _ => { closed.TrySetResult(started.Elapsed.TotalSeconds); return Task.CompletedTask; };
        await hub.StartAsync();
        var seconds = await closed.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var lifetime = Lifetime.TotalSeconds;
        report.Add(new BenchRow($"hub connection closed when its token expires ({lifetime:0} s token)",
            $"closed {seconds:0.00} s after connecting", $"the token's lifetime: {lifetime:0} s",
            BenchRow.Divide(seconds, lifetime), "closed 2–8 s after connecting", BenchRow.MetIf(seconds is >= 2 and <= 8), seconds, lifetime, "s"));
    }
}

using Bunit;
using ImagePictures.Client;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImagePictures.Components.Tests;

/// <summary>The one service LiveAvatar calls, faked: which users are watched, and a way to push changes.</summary>
public sealed class FakeAvatarEvents : IAvatarEvents
{
    public Uri? BaseAddress { get; set; } = new("https://pictures.example/");
    public List<(string UserId, Func<AvatarChange, Task> Handler)> Watches { get; } = [];
    public List<(string Hash, Func<AvatarChange, Task> Handler)> HashWatches { get; } = [];
    public int Disposed { get; private set; }

    public Task<IAsyncDisposable> WatchAvatarAsync(string userId, Func<AvatarChange, Task> onChange, CancellationToken ct = default)
    {
        var entry = (userId, onChange);
        Watches.Add(entry);
        return Task.FromResult<IAsyncDisposable>(new Handle(() => { Watches.Remove(entry); Disposed++; }));
    }

    public Task<IAsyncDisposable> WatchAvatarByHashAsync(string emailHash, Func<AvatarChange, Task> onChange, CancellationToken ct = default)
    {
        var entry = (emailHash, onChange);
        HashWatches.Add(entry);
        return Task.FromResult<IAsyncDisposable>(new Handle(() => { HashWatches.Remove(entry); Disposed++; }));
    }

    /// <summary>As the service does: a hash watcher's change carries the hash as UserId.</summary>
    public async Task PushAsync(AvatarChange change)
    {
        foreach (var (userId, handler) in Watches.Concat(HashWatches).ToList())
            if (userId == change.UserId) await handler(change);
    }

    private sealed class Handle(Action dispose) : IAsyncDisposable
    {
        public ValueTask DisposeAsync() { dispose(); return ValueTask.CompletedTask; }
    }
}

/// <summary>Keeps the messages logged through it.</summary>
public sealed class RecordingLogger<T> : ILogger<T>
{
    public List<(LogLevel Level, string Message)> Entries { get; } = [];
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;
    public bool IsEnabled(LogLevel logLevel) => true;
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Add((logLevel, formatter(state, exception)));
}

[Trait("Category", "Unit")]
public class LiveAvatarTests : BunitContext
{
    private readonly FakeAvatarEvents _events = new();
    private readonly RecordingLogger<LiveAvatar> _log = new();

    public LiveAvatarTests()
    {
        Services.AddSingleton<IAvatarEvents>(_events);
        Services.AddSingleton<ILogger<LiveAvatar>>(_log);
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    private static PictureJson PictureWithHash(string hash) =>
        new(Guid.NewGuid(), "alice", true, false, 512, 512, 1000, hash, null, DateTime.UtcNow, null, null, new Dictionary<string, string>());

    [Theory]
    [InlineData("javascript:alert(1)")]
    [InlineData("data:text/html,x")]
    [InlineData("ftp://pictures.example/")]
    public void ABaseAddressThatIsNotHttpOrHttpsIsIgnoredWithAWarning(string address)
    {
        _events.BaseAddress = new Uri(address);
        var cut = Render<LiveAvatar>(p => p.Add(a => a.UserId, "alice"));
        Assert.StartsWith("/avatars/alice?size=64&v=", cut.Find("img").GetAttribute("src"));
        var warning = Assert.Single(_log.Entries);
        Assert.Equal(LogLevel.Warning, warning.Level);
        Assert.Contains("only http and https", warning.Message);
        Assert.Contains(new Uri(address).Scheme, warning.Message);
    }

    [Fact]
    public void RendersTheAvatarSizedWithAltAndWatchesTheUser()
    {
        var cut = Render<LiveAvatar>(p => p.Add(a => a.UserId, "alice").Add(a => a.Size, 128).Add(a => a.Alt, "Alice").AddUnmatched("class", "round"));
        var img = cut.Find("img");
        Assert.StartsWith("https://pictures.example/avatars/alice?size=128&v=", img.GetAttribute("src"));
        Assert.Equal("128", img.GetAttribute("width"));
        Assert.Equal("128", img.GetAttribute("height"));
        Assert.Equal("Alice", img.GetAttribute("alt"));
        Assert.Equal("round", img.GetAttribute("class"));
        Assert.Equal(["alice"], _events.Watches.Select(w => w.UserId));
        Assert.Equal("watching", img.GetAttribute("data-live"));
    }

    [Fact]
    public async Task ReRendersWithTheNewVersionOnAChangeAndReportsIt()
    {
        AvatarChange? reported = null;
        var cut = Render<LiveAvatar>(p => p.Add(a => a.UserId, "alice").Add(a => a.OnChange, (AvatarChange c) => reported = c));
        var before = cut.Find("img").GetAttribute("src");

        var change = new AvatarChange("alice", "0123456789abcdef", PictureWithHash("0123456789abcdef00"));
        await cut.InvokeAsync(() => _events.PushAsync(change));
        cut.WaitForAssertion(() => Assert.Equal("https://pictures.example/avatars/alice?size=64&v=0123456789abcdef", cut.Find("img").GetAttribute("src")));
        Assert.NotEqual(before, cut.Find("img").GetAttribute("src"));
        Assert.Equal(change, reported);

        // A reconnect reloads the picture but is not a change.
        reported = null;
        await cut.InvokeAsync(() => _events.PushAsync(new AvatarChange("alice", "r1", null)));
        cut.WaitForAssertion(() => Assert.EndsWith("v=r1", cut.Find("img").GetAttribute("src")));
        Assert.Null(reported);
    }

    [Fact]
    public async Task AnEmailHashShowsAndFollowsTheHashRouteAndNeverTheUserRoute()
    {
        var md5 = "0BC83CB571CD1C50BA6F3E8A78EF1346"; // upper case is accepted, shown in lower case
        var cut = Render<LiveAvatar>(p => p.Add(a => a.EmailHash, md5).Add(a => a.Size, 80));
        var img = cut.Find("img");
        Assert.StartsWith($"https://pictures.example/avatar/{md5.ToLowerInvariant()}?s=80&v=", img.GetAttribute("src"));
        Assert.Equal(md5.ToLowerInvariant(), img.GetAttribute("data-email-hash"));
        Assert.Null(img.GetAttribute("data-user-id"));
        Assert.Equal([md5.ToLowerInvariant()], _events.HashWatches.Select(w => w.Hash));
        Assert.Empty(_events.Watches);

        await cut.InvokeAsync(() => _events.PushAsync(new AvatarChange(md5.ToLowerInvariant(), "d42", null)));
        cut.WaitForAssertion(() => Assert.Equal($"https://pictures.example/avatar/{md5.ToLowerInvariant()}?s=80&v=d42", cut.Find("img").GetAttribute("src")));

        // Not a hash: ignored, the user id serves.
        cut.Render(p => p.Add(a => a.EmailHash, "not-a-hash").Add(a => a.UserId, "alice"));
        Assert.Contains("/avatars/alice?", cut.Find("img").GetAttribute("src"));
        Assert.Equal(["alice"], _events.Watches.Select(w => w.UserId));
        Assert.Empty(_events.HashWatches);
    }

    [Fact]
    public async Task ANewUserIdWatchesTheNewUserAndUnwatchesTheOld()
    {
        var cut = Render<LiveAvatar>(p => p.Add(a => a.UserId, "alice"));
        cut.Render(p => p.Add(a => a.UserId, "bob"));
        Assert.Equal(["bob"], _events.Watches.Select(w => w.UserId));
        Assert.Equal(1, _events.Disposed);
        await cut.InvokeAsync(() => _events.PushAsync(new AvatarChange("alice", "stale", null)));
        Assert.DoesNotContain("stale", cut.Find("img").GetAttribute("src"));
        Assert.Contains("/avatars/bob?", cut.Find("img").GetAttribute("src"));
    }

    [Fact]
    public async Task DisposingUnsubscribes()
    {
        var cut = Render<LiveAvatar>(p => p.Add(a => a.UserId, "alice"));
        Assert.Single(_events.Watches);
        await DisposeComponentsAsync();
        Assert.Empty(_events.Watches);
        Assert.Equal(1, _events.Disposed);
    }

    [Fact]
    public void PrerenderedOrWithoutEventsItShowsTheAvatarWithoutWatching()
    {
        SetRendererInfo(new RendererInfo("Static", isInteractive: false));
        var cut = Render<LiveAvatar>(p => p.Add(a => a.UserId, "alice"));
        Assert.Contains("/avatars/alice?size=64", cut.Find("img").GetAttribute("src"));
        Assert.Null(cut.Find("img").GetAttribute("data-live"));
        Assert.Empty(_events.Watches);
    }
}

using Bunit;
using ImagePictures.Client;
using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.DependencyInjection;

namespace ImagePictures.Components.Tests;

/// <summary>&lt;AvatarEditor&gt; hosts the element: its parameters become attributes and the module's setup; its events come back as callbacks.</summary>
[Trait("Category", "Unit")]
public class AvatarEditorTests : BunitContext
{
    private readonly BunitJSModuleInterop _module;

    public AvatarEditorTests()
    {
        Services.AddSingleton<IAvatarEvents>(new FakeAvatarEvents { BaseAddress = new("https://pictures.example/") });
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
        _module = JSInterop.SetupModule("https://pictures.example/client/avatar-editor.js");
        _module.SetupVoid("connectDotNet", _ => true).SetVoidResult();
        _module.SetupVoid("disconnectDotNet", _ => true).SetVoidResult();
    }

    [Fact]
    public void RendersTheElementAndConnectsItWithTheStrings()
    {
        var strings = new Dictionary<string, string> { ["heading"] = "Vos photos" };
        var cut = Render<AvatarEditor>(p => p.Add(a => a.UserId, "alice").Add(a => a.TokenProvider, () => Task.FromResult<string?>("t"))
            .Add(a => a.Strings, strings).AddUnmatched("class", "wide"));

        var element = cut.Find("avatar-editor");
        Assert.Equal("https://pictures.example", element.GetAttribute("service")); // from the registered client
        Assert.Equal("alice", element.GetAttribute("user-id"));
        Assert.Equal("wide", element.GetAttribute("class"));
        var connect = Assert.Single(_module.Invocations, i => i.Identifier == "connectDotNet");
        Assert.Same(strings, connect.Arguments[2]);
    }

    [Fact]
    public void AnExplicitServiceWins()
    {
        var module = JSInterop.SetupModule("https://other.example/client/avatar-editor.js");
        module.SetupVoid("connectDotNet", _ => true).SetVoidResult();
        var cut = Render<AvatarEditor>(p => p.Add(a => a.UserId, "bob").Add(a => a.Service, "https://other.example/"));
        Assert.Equal("https://other.example", cut.Find("avatar-editor").GetAttribute("service"));
        Assert.Single(module.Invocations, i => i.Identifier == "connectDotNet");
    }

    [Fact]
    public void ANonHttpServiceIsRefused()
    {
        var e = Assert.ThrowsAny<Exception>(() => Render<AvatarEditor>(p => p.Add(a => a.UserId, "bob").Add(a => a.Service, "javascript:alert(1)")));
        Assert.Contains("http or https", e.Message);
    }

    [Fact]
    public async Task TheTokenComesFromTheProviderAndEachEventReachesItsCallback()
    {
        var seen = new List<string>();
        var cut = Render<AvatarEditor>(p => p.Add(a => a.UserId, "alice")
            .Add(a => a.TokenProvider, () => Task.FromResult<string?>("token-of-alice"))
            .Add(a => a.OnChange, e => seen.Add($"change {e.Detail.GetProperty("picture").GetProperty("id").GetString()}"))
            .Add(a => a.OnUpload, e => seen.Add($"upload {e.Detail.GetProperty("crop").GetProperty("width").GetInt32()}"))
            .Add(a => a.OnError, e => seen.Add($"error {e.Detail.GetProperty("title").GetString()}"))
            .Add(a => a.OnClose, e => seen.Add($"close {e.Detail.ValueKind}")));

        Assert.Equal("token-of-alice", await cut.Instance.GetToken());
        await cut.InvokeAsync(() => cut.Instance.Dispatch("change", """{"picture":{"id":"p1"}}"""));
        await cut.InvokeAsync(() => cut.Instance.Dispatch("upload", """{"picture":{"id":"p2"},"crop":{"x":0,"y":0,"width":400,"height":400}}"""));
        await cut.InvokeAsync(() => cut.Instance.Dispatch("error", """{"status":415,"title":"Unsupported image type","detail":"…"}"""));
        await cut.InvokeAsync(() => cut.Instance.Dispatch("close", "null"));
        Assert.Equal(["change p1", "upload 400", "error Unsupported image type", "close Null"], seen);
    }
}

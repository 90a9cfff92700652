using Bunit;
using Bunit.Diffing;
using Bunit.Extensions;
using Bunit.Rendering;
using Bunit.TestDoubles;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.RenderTree;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.JSInterop;

namespace ImagePictures.Dashboard.Tests;

/// <summary>
/// bUnit 1.9.8's <c>Bunit.TestContext</c> cannot be constructed on .NET 10: its JSInterop fake
/// implements <c>IJSUnmarshalledRuntime</c>, which .NET 10's Microsoft.JSInterop no longer has
/// (TypeLoadException in the TestContext constructor). This context is the same as bUnit's
/// TestContext minus the JSInterop fake (and the WebAssembly/auth placeholders the dashboard
/// does not need); it exposes the same RenderComponent API so tests read like normal bUnit tests.
/// </summary>
public class DashboardTestContext : TestContextBase
{
    public DashboardTestContext()
    {
        Services.AddLogging();
        Services.AddSingleton<IJSRuntime, NoJsRuntime>();
        Services.AddSingleton<FakeNavigationManager>();
        Services.AddSingleton<NavigationManager>(s => s.GetRequiredService<FakeNavigationManager>());

        Services.AddSingleton<TestContextBase>(this);
        Services.AddSingleton<WebTestRenderer>();
        Services.AddSingleton<Renderer>(s => s.GetRequiredService<WebTestRenderer>());
        Services.AddSingleton<ITestRenderer>(s => s.GetRequiredService<WebTestRenderer>());
        Services.AddSingleton<HtmlComparer>();
        Services.AddSingleton<BunitHtmlParser>();
        Services.AddSingleton<IRenderedComponentActivator, RenderedComponentActivator>();
        Services.AddSingleton<IErrorBoundaryLogger, NoopErrorBoundaryLogger>();
    }

    public IRenderedComponent<TComponent> RenderComponent<TComponent>(params ComponentParameter[] parameters)
        where TComponent : IComponent
    {
        var fragment = new ComponentParameterCollection { parameters }.ToRenderFragment<TComponent>();
        return (IRenderedComponent<TComponent>)this.RenderInsideRenderTree<TComponent>(fragment);
    }

    public IRenderedComponent<TComponent> RenderComponent<TComponent>(Action<ComponentParameterCollectionBuilder<TComponent>> parameterBuilder)
        where TComponent : IComponent
    {
        var fragment = new ComponentParameterCollectionBuilder<TComponent>(parameterBuilder).Build().ToRenderFragment<TComponent>();
        return (IRenderedComponent<TComponent>)this.RenderInsideRenderTree<TComponent>(fragment);
    }

    private sealed class NoopErrorBoundaryLogger : IErrorBoundaryLogger
    {
        public ValueTask LogErrorAsync(Exception exception) => ValueTask.CompletedTask;
    }

    /// <summary>The dashboard components use no JavaScript; any call is a test failure.</summary>
    private sealed class NoJsRuntime : IJSRuntime
    {
        public ValueTask<TValue> InvokeAsync<TValue>(string identifier, object?[]? args) =>
            throw new InvalidOperationException($"Unexpected JS call '{identifier}'.");

        public ValueTask<TValue> InvokeAsync<TValue>(string identifier, CancellationToken cancellationToken, object?[]? args) =>
            throw new InvalidOperationException($"Unexpected JS call '{identifier}'.");
    }
}

using ImagePictures.Dashboard;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace ImagePictures.Dashboard.Tests;

/// <summary>
/// Renders DashboardPage with the framework's static HtmlRenderer (what static SSR / prerendering
/// does) to prove the job status and summary are already in the first HTML response.
/// </summary>
[Trait("Category", "Unit")]
public class StaticRenderingTests
{
    [Fact]
    public async Task Static_render_already_shows_the_job_status()
    {
        var fake = new FakeAdminDashboardService().WithDefaultJobs();
        await using var provider = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IAdminDashboardService>(fake)
            .BuildServiceProvider();
        await using var renderer = new HtmlRenderer(provider, provider.GetRequiredService<ILoggerFactory>());

        var html = await renderer.Dispatcher.InvokeAsync(async () =>
        {
            var output = await renderer.RenderComponentAsync<DashboardPage>(ParameterView.Empty);
            await output.QuiescenceTask;
            return output.ToHtmlString();
        });

        Assert.Contains("ImagePictures admin", html);
        Assert.Contains("data-job=\"trash-purge\"", html);
        Assert.Contains("data-job=\"staging-cleanup\"", html);
        Assert.Contains("href=\"/hangfire\"", html);
        Assert.Contains("12.3 MB", html);
        Assert.DoesNotContain("Loading", html);
    }
}

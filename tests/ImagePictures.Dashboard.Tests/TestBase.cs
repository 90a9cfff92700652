using Bunit;
using ImagePictures.Dashboard;
using Microsoft.Extensions.DependencyInjection;

namespace ImagePictures.Dashboard.Tests;

/// <summary>bUnit's own context (strict JS interop: the components use no JavaScript) with the fake service.</summary>
public abstract class DashboardTestBase : BunitContext
{
    protected FakeAdminDashboardService Fake { get; } = new();

    protected DashboardTestBase()
    {
        Services.AddSingleton<IAdminDashboardService>(Fake);
    }
}

using Bunit;
using ImagePictures.Dashboard;
using Microsoft.Extensions.DependencyInjection;

namespace ImagePictures.Dashboard.Tests;

public abstract class DashboardTestBase : DashboardTestContext
{
    protected FakeAdminDashboardService Fake { get; } = new();

    protected DashboardTestBase()
    {
        Services.AddSingleton<IAdminDashboardService>(Fake);
    }
}

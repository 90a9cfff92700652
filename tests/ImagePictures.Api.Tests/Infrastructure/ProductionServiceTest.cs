using Microsoft.AspNetCore.Hosting;

namespace ImagePictures.Api.Tests.Infrastructure;

/// <summary>
/// A test class over the service in the Production environment with tokens from a real OIDC issuer
/// (discovery + JWKS over HTTP, a second web host in this process), both fresh for each test.
/// </summary>
public abstract class ProductionServiceTest : IAsyncLifetime
{
    protected TestOidcIssuer Issuer { get; private set; } = null!;
    protected OidcApplication App { get; private set; } = null!;

    /// <summary>More settings for the service, before it starts.</summary>
    protected virtual void Configure(OidcApplication app) { }

    public async Task InitializeAsync()
    {
        Issuer = await TestOidcIssuer.StartAsync();
        App = new OidcApplication(Issuer.Issuer);
        Configure(App);
        await App.InitializeAsync();
    }

    public async Task DisposeAsync()
    {
        await ((IAsyncLifetime)App).DisposeAsync();
        await Issuer.DisposeAsync();
    }
}

/// <summary>The service in Production, trusting the given OIDC authority over plain http (a test issuer).</summary>
public sealed class OidcApplication(string authority) : PicturesApplication
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseEnvironment("Production");
        builder.UseSetting("Auth:Authority", authority);
        builder.UseSetting("Auth:Audience", "imagepictures");
        builder.UseSetting("Auth:RequireHttpsMetadata", "false");
    }
}

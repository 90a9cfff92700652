using ImagePictures.Client;

namespace Microsoft.Extensions.DependencyInjection;

public static class ImagePicturesServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="ImagePicturesClient"/>, <see cref="ImagePicturesEvents"/> and <see cref="IAvatarEvents"/>
    /// as singletons. Set <see cref="ImagePicturesClientOptions.BaseAddress"/>, and
    /// <see cref="ImagePicturesClientOptions.AccessTokenProvider"/> unless the hub is only watched anonymously.
    /// </summary>
    public static IServiceCollection AddImagePicturesClient(this IServiceCollection services, Action<ImagePicturesClientOptions> configure) =>
        services.AddImagePicturesClient((_, o) => configure(o));

    /// <summary>As above, with the service provider at hand (to resolve a token source).</summary>
    public static IServiceCollection AddImagePicturesClient(this IServiceCollection services, Action<IServiceProvider, ImagePicturesClientOptions> configure)
    {
        services.AddSingleton(sp =>
        {
            var options = new ImagePicturesClientOptions();
            configure(sp, options);
            return options;
        });
        services.AddSingleton(sp => new ImagePicturesClient(NewHttpClient(), sp.GetRequiredService<ImagePicturesClientOptions>()));
        services.AddSingleton(sp => new ImagePicturesEvents(sp.GetRequiredService<ImagePicturesClient>()));
        services.AddSingleton<IAvatarEvents>(sp => sp.GetRequiredService<ImagePicturesEvents>());
        return services;
    }

    // One long-lived HttpClient; on servers its connections are renewed so DNS changes are picked up.
    // In the browser (WebAssembly) fetch does the pooling.
    private static HttpClient NewHttpClient() => OperatingSystem.IsBrowser()
        ? new HttpClient()
        : new HttpClient(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(5) });
}

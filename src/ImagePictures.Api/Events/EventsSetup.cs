using Microsoft.Extensions.DependencyInjection.Extensions;
using ImagePictures.Api.Hosting;
using ImagePictures.Dashboard;
using Microsoft.Extensions.Options;

namespace ImagePictures.Api.Events;

/// <summary>The dispatcher with its sinks, the webhook admin routes and the dashboard's view of the sinks.</summary>
public static class EventsSetup
{
    public static void AddEvents(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSettings<EventsOptions>(EventsOptions.Section)
            .PostConfigure<IHostEnvironment>((o, env) => o.Webhooks.AllowPrivateNetworks ??= env.IsDevelopment());
        // The sinks and the dispatcher take the bound options themselves.
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<EventsOptions>>().Value);
        services.TryAddSingleton(TimeProvider.System); // tests replace the clock to live through 24 h of failures
        services.AddSingleton<EventSinkStore>();
        services.AddEventSink<RabbitMqSink>();
        services.AddEventSink<WebhookSink>();
        services.AddSingleton<EventDispatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<EventDispatcher>());
        services.AddScoped<IEventSinkStatusSource, EventSinkStatusSource>();
        services.AddHealthChecks().AddCheck<EventsHealthCheck>("events", tags: ["ready"]);
    }

    /// <summary>Adds a kind of sink: the dispatcher delivers every row of event_sinks of its kind through it.</summary>
    public static IServiceCollection AddEventSink<T>(this IServiceCollection services) where T : class, IEventSink =>
        services.AddSingleton<IEventSink, T>();
}

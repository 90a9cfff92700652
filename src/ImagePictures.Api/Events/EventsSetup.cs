using Microsoft.Extensions.DependencyInjection.Extensions;
using ImagePictures.Dashboard;

namespace ImagePictures.Api.Events;

/// <summary>The settings of "Events to other services" (section Events of the configuration).</summary>
public sealed record EventsOptions
{
    /// <summary>Events:RabbitMq:Uri; the RabbitMQ sink is on when set.</summary>
    public Uri? RabbitMqUri { get; init; }
    public string RabbitMqExchange { get; init; } = "imagepictures.events";

    /// <summary>Events:Webhooks:AllowPrivateNetworks (default false, true in Development).</summary>
    public bool AllowPrivateNetworks { get; init; }
    public TimeSpan WebhookTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>The wait after the 1st, 2nd, … failure of a webhook; the last one repeats.</summary>
    public TimeSpan[] WebhookRetryDelays { get; init; } = [];
    public TimeSpan WebhookDisableAfter { get; init; } = TimeSpan.FromHours(24);

    /// <summary>Events:Webhooks:MaxEndpoints: registering one more is 409.</summary>
    public int WebhookMaxEndpoints { get; init; } = 50;

    /// <summary>How often an instance looks for new sinks and tries to take over sinks nobody delivers.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(5);

    public static readonly TimeSpan[] DefaultRetryDelays =
        [TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(30), TimeSpan.FromMinutes(2), TimeSpan.FromMinutes(10), TimeSpan.FromHours(1)];

    public static EventsOptions From(IConfiguration config, IHostEnvironment env)
    {
        var section = config.GetSection("Events");
        var uri = section["RabbitMq:Uri"];
        var delays = section.GetSection("Webhooks:RetryDelaysSeconds").Get<double[]>();
        var maxEndpoints = section.GetValue("Webhooks:MaxEndpoints", new EventsOptions().WebhookMaxEndpoints);
        if (maxEndpoints < 0) throw new InvalidOperationException("Events:Webhooks:MaxEndpoints must be 0 or more.");
        return new EventsOptions
        {
            RabbitMqUri = string.IsNullOrWhiteSpace(uri) ? null
                : Uri.TryCreate(uri, UriKind.Absolute, out var u) && u.Scheme is "amqp" or "amqps" ? u
                : throw new InvalidOperationException("Events:RabbitMq:Uri must be an amqp:// or amqps:// URI (amqp://user:pass@host:port/vhost)."),
            RabbitMqExchange = section["RabbitMq:Exchange"] is { Length: > 0 } exchange ? exchange : "imagepictures.events",
            AllowPrivateNetworks = section.GetValue("Webhooks:AllowPrivateNetworks", env.IsDevelopment()),
            WebhookTimeout = TimeSpan.FromSeconds(section.GetValue("Webhooks:TimeoutSeconds", 10.0)),
            WebhookRetryDelays = delays is { Length: > 0 } ? delays.Select(TimeSpan.FromSeconds).ToArray() : DefaultRetryDelays,
            WebhookDisableAfter = TimeSpan.FromHours(section.GetValue("Webhooks:DisableAfterHours", 24.0)),
            WebhookMaxEndpoints = maxEndpoints,
            PollInterval = TimeSpan.FromSeconds(section.GetValue("PollSeconds", 5.0)),
        };
    }
}

/// <summary>The dispatcher with its sinks, the webhook admin routes and the dashboard's view of the sinks.</summary>
public static class EventsSetup
{
    public static void AddEvents(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton(sp => EventsOptions.From(sp.GetRequiredService<IConfiguration>(), sp.GetRequiredService<IHostEnvironment>()));
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

using System.ComponentModel.DataAnnotations;

namespace ImagePictures.Api.Events;

/// <summary>
/// Section Events: how long the event log keeps events and the sinks that deliver them to other
/// services (Events:RabbitMq, Events:Webhooks). The sinks read the values through the properties
/// at the end, in the units they use.
/// </summary>
public sealed class EventsOptions
{
    public const string Section = "Events";

    /// <summary>Events older than this are pruned (unless a sink still needs them).</summary>
    [Range(0, 36500, ErrorMessage = "expected the days events are kept, from 0 to 36500.")]
    public double RetentionDays { get; set; } = 7;

    /// <summary>How often an instance looks for new sinks and tries to take over sinks nobody delivers.</summary>
    [Range(0.01, 3600, ErrorMessage = "expected the seconds between looks for new sinks, more than 0 and at most 3600.")]
    public double PollSeconds { get; set; } = 5;

    public RabbitMqOptions RabbitMq { get; set; } = new();
    public WebhookOptions Webhooks { get; set; } = new();

    public Uri? RabbitMqUri => string.IsNullOrWhiteSpace(RabbitMq.Uri) ? null : new Uri(RabbitMq.Uri);
    public string RabbitMqExchange => RabbitMq.Exchange;
    public bool AllowPrivateNetworks => Webhooks.AllowPrivateNetworks == true;
    public TimeSpan WebhookTimeout => TimeSpan.FromSeconds(Webhooks.TimeoutSeconds);
    public TimeSpan[] WebhookRetryDelays => Webhooks.RetryDelays;
    public TimeSpan WebhookDisableAfter => TimeSpan.FromHours(Webhooks.DisableAfterHours);
    public int WebhookMaxEndpoints => Webhooks.MaxEndpoints;
    public TimeSpan PollInterval => TimeSpan.FromSeconds(PollSeconds);
}

/// <summary>Events:RabbitMq: the RabbitMQ sink is on when Uri is set.</summary>
public sealed class RabbitMqOptions : IValidatableObject
{
    /// <summary>amqp://user:pass@host:port/vhost</summary>
    public string? Uri { get; set; }

    [Required(AllowEmptyStrings = false, ErrorMessage = "expected the name of the topic exchange events are published to, e.g. imagepictures.events.")]
    public string Exchange { get; set; } = "imagepictures.events";

    public IEnumerable<ValidationResult> Validate(ValidationContext context)
    {
        if (!string.IsNullOrWhiteSpace(Uri) && !(System.Uri.TryCreate(Uri, UriKind.Absolute, out var u) && u.Scheme is "amqp" or "amqps"))
            yield return new ValidationResult("expected an amqp:// or amqps:// URI (amqp://user:pass@host:port/vhost), or no value to leave RabbitMQ off.", [nameof(Uri)]);
    }
}

/// <summary>Events:Webhooks: delivery to the registered webhook endpoints.</summary>
public sealed class WebhookOptions
{
    /// <summary>Webhook URLs on loopback and private addresses; absent: allowed in Development only.</summary>
    public bool? AllowPrivateNetworks { get; set; }

    /// <summary>Registering one more is 409.</summary>
    [Range(0, int.MaxValue, ErrorMessage = "expected the webhook endpoints that may be registered, 0 or more.")]
    public int MaxEndpoints { get; set; } = 50;

    [Range(0.1, 300, ErrorMessage = "expected the seconds one webhook request may take, from 0.1 to 300.")]
    public double TimeoutSeconds { get; set; } = 10;

    /// <summary>
    /// The wait after the 1st, 2nd, … failure; the last one repeats. Empty (as when absent) stands for
    /// <see cref="DefaultRetryDelaysSeconds"/>: the list has no initial values, since configuration
    /// binding appends to an array instead of replacing it.
    /// </summary>
    public double[] RetryDelaysSeconds { get; set; } = [];

    public static readonly double[] DefaultRetryDelaysSeconds = [5, 30, 120, 600, 3600];

    [Range(0.001, 87600, ErrorMessage = "expected the hours a failing endpoint is retried before it is disabled, more than 0.")]
    public double DisableAfterHours { get; set; } = 24;

    public TimeSpan[] RetryDelays => (RetryDelaysSeconds is { Length: > 0 } d ? d : DefaultRetryDelaysSeconds).Select(TimeSpan.FromSeconds).ToArray();
}

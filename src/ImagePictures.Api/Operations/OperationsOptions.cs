using System.ComponentModel.DataAnnotations;
using System.Net;

namespace ImagePictures.Api.Operations;

/// <summary>
/// Metrics:*: Prometheus text at /metrics (default on), on the main listener or, with Port, only on a
/// listener of its own. OTLP export is on when OTEL_EXPORTER_OTLP_ENDPOINT is set.
/// </summary>
public sealed class MetricsOptions
{
    public const string Section = "Metrics";

    public bool Prometheus { get; set; } = true;

    /// <summary>Unset: /metrics on the main listener. Set: /metrics only on this port (all interfaces), 404 on the main one.</summary>
    [Range(1, 65535, ErrorMessage = "expected a TCP port for the metrics listener, from 1 to 65535, or no value for /metrics on the main listener.")]
    public int? Port { get; set; }
}

/// <summary>Docs:Enabled: the interactive API reference at /docs (default on).</summary>
public sealed class DocsOptions
{
    public const string Section = "Docs";

    public bool Enabled { get; set; } = true;
}

/// <summary>
/// ForwardedHeaders:*: behind a reverse proxy, X-Forwarded-For/-Proto/-Host from the listed proxies
/// (KnownProxies, IP addresses; loopback is always trusted) set the client address and scheme.
/// </summary>
public sealed class ReverseProxyOptions : IValidatableObject
{
    public const string Section = "ForwardedHeaders";

    public bool Enabled { get; set; }
    public string[] KnownProxies { get; set; } = [];

    [Range(1, 10, ErrorMessage = "expected the number of proxies in front of the service, 1 to 10.")]
    public int ForwardLimit { get; set; } = 1;

    public IEnumerable<ValidationResult> Validate(ValidationContext context)
    {
        foreach (var bad in KnownProxies.Where(p => !IPAddress.TryParse(p, out _)))
            yield return new ValidationResult($"expected IP addresses of the reverse proxies; '{bad}' is not one.", [nameof(KnownProxies)]);
    }
}

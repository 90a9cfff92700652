using System.Diagnostics;
using System.Diagnostics.Metrics;
using ImagePictures.Api.Hosting;
using Microsoft.Extensions.Diagnostics.Metrics;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ImagePictures.Api.Operations;

/// <summary>
/// OpenTelemetry: the service's meter plus ASP.NET Core's, HttpClient and Npgsql instrumentation.
/// /metrics serves Prometheus text when Metrics:Prometheus (default true), at exactly that path, on the
/// main listener or only on Metrics:Port; metrics and traces go
/// to OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (the exporter reads the standard OTEL_* variables).
/// Query strings never reach a span: the hub's access_token rides there.
/// </summary>
public static class Telemetry
{
    public static void AddPicturesTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddSettings<MetricsOptions>(MetricsOptions.Section);
        // What is registered depends on the settings: a bound copy is read here (checked at start like the rest).
        var metrics = builder.Configuration.GetSection(MetricsOptions.Section).Get<MetricsOptions>() ?? new MetricsOptions();
        var prometheus = metrics.Prometheus;
        var otlp = !string.IsNullOrWhiteSpace(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        builder.Services.AddSingleton<PicturesMetrics>();
        // Our meter and ASP.NET Core's are made by this host's IMeterFactory and enabled for this host only
        // (MeterScope.Local). AddMeter would subscribe by name to every same-named meter in the process, and
        // when another host (a second instance in a test process) disposes its meters, OpenTelemetry stops
        // exporting the instruments they share with ours (open-telemetry/opentelemetry-dotnet#6412).
        builder.Services.AddMetrics(metrics => metrics
            .EnableMetrics(PicturesMetrics.MeterName, scopes: MeterScope.Local)
            .EnableMetrics("Microsoft.AspNetCore", scopes: MeterScope.Local));
        var otel = builder.Services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("imagepictures"))
            .WithMetrics(m =>
            {
                m.AddHttpClientInstrumentation()
                    .AddNpgsqlInstrumentation()
                    .AddView(WithoutRemoteHosts);
                if (prometheus) m.AddPrometheusExporter();
            })
            .WithTracing(t => t
                .AddAspNetCoreInstrumentation(o => o.EnrichWithHttpRequest = (activity, _) => DropQuery(activity))
                .AddHttpClientInstrumentation(o => o.EnrichWithHttpRequestMessage = (activity, _) => DropQuery(activity))
                .AddNpgsql());
        if (otlp) otel.UseOtlpExporter();
        // The value is checked with the other settings before anything starts.
        if (prometheus && metrics.Port is not null) builder.Services.AddHostedService<MetricsListener>();
    }

    // The outgoing calls' labels that say nothing of where they went: a webhook's host (and the
    // address it resolved to) was typed by an admin and does not belong in a label.
    private static readonly string[] HttpClientTags =
        ["error.type", "http.request.method", "http.response.status_code", "http.connection.state", "network.protocol.version", "url.scheme"];

    /// <summary>Drops DNS lookups (labelled by the name looked up) and the hosts of HttpClient's instruments.</summary>
    private static MetricStreamConfiguration? WithoutRemoteHosts(Instrument instrument) => instrument.Meter.Name switch
    {
        "System.Net.NameResolution" => MetricStreamConfiguration.Drop,
        "System.Net.Http" => new MetricStreamConfiguration { TagKeys = HttpClientTags },
        _ => null,
    };

    public static void MapMetrics(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value;
        if (settings.Prometheus && settings.Port is null) app.UseMetricsAtExactPath(app.Services.GetRequiredService<MeterProvider>());
    }

    /// <summary>
    /// /metrics at exactly that path: routing would also answer /METRICS and /metrics/, spellings a
    /// reverse proxy that hides "/metrics" lets through. Anything else falls through (404).
    /// </summary>
    private static void UseMetricsAtExactPath(this IApplicationBuilder app, MeterProvider meters) =>
        app.UseOpenTelemetryPrometheusScrapingEndpoint(meters, http => string.Equals(http.Request.Path.Value, MetricsPath, StringComparison.Ordinal),
            path: null, configureBranchedPipeline: null, optionsName: null);

    private const string MetricsPath = "/metrics";

    /// <summary>
    /// Metrics:Port: a Kestrel server of its own that answers only /metrics, so that the scrape never
    /// shares a port with the public API, whatever the reverse proxy in front does.
    /// </summary>
    private sealed class MetricsListener(IOptions<MetricsOptions> settings, MeterProvider meters, ILogger<MetricsListener> log) : IHostedService
    {
        private WebApplication? _server;

        public async Task StartAsync(CancellationToken ct)
        {
            var port = settings.Value.Port!.Value;
            var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
            builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.ListenAnyIP(port));
            _server = builder.Build();
            _server.UseMetricsAtExactPath(meters);
            _server.Run(http =>
            {
                http.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            });
            await _server.StartAsync(ct);
            log.LogInformation("Metrics listener on port {Port}: /metrics answers only there", port);
        }

        public async Task StopAsync(CancellationToken ct)
        {
            if (_server is null) return;
            await _server.StopAsync(ct);
            await _server.DisposeAsync();
        }
    }

    private static void DropQuery(Activity activity)
    {
        activity.SetTag("url.query", null);
        if (activity.GetTagItem("url.full") is string full && full.IndexOf('?') is var q and >= 0)
            activity.SetTag("url.full", full[..q]);
    }
}

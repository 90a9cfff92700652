using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.Diagnostics.Metrics;
using Npgsql;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace ImagePictures.Api.Operations;

/// <summary>
/// OpenTelemetry: the service's meter plus ASP.NET Core's, HttpClient and Npgsql instrumentation.
/// /metrics serves Prometheus text when Metrics:Prometheus (default true); metrics and traces go
/// to OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set (the exporter reads the standard OTEL_* variables).
/// Query strings never reach a span: the hub's access_token rides there.
/// </summary>
public static class Telemetry
{
    public static void AddPicturesTelemetry(this WebApplicationBuilder builder)
    {
        var prometheus = builder.Configuration.GetValue("Metrics:Prometheus", true);
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
        if (app.Configuration.GetValue("Metrics:Prometheus", true))
            app.MapPrometheusScrapingEndpoint("/metrics");
    }

    private static void DropQuery(Activity activity)
    {
        activity.SetTag("url.query", null);
        if (activity.GetTagItem("url.full") is string full && full.IndexOf('?') is var q and >= 0)
            activity.SetTag("url.full", full[..q]);
    }
}

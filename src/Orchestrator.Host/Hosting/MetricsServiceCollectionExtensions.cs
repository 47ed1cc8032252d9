using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Orchestrator.Grains.Telemetry;

namespace Orchestrator.Host.Hosting;

/// <summary>Registers the OpenTelemetry metrics pipeline and its Prometheus exporter.</summary>
public static class MetricsServiceCollectionExtensions
{
    /// <summary>The <c>service.name</c> resource attribute (Prometheus <c>target_info</c>).</summary>
    public const string ServiceName = "orchestrator";

    /// <summary>
    /// Meters exported besides <see cref="OrchestratorMetrics.MeterName"/>: the .NET runtime's built-in
    /// <c>System.Runtime</c> meter (GC, heap, CPU, thread pool, exceptions; no extra package since .NET 9) and the
    /// ASP.NET Core server meters (request duration by route template, never by path, so no value from a URL).
    /// </summary>
    public static readonly string[] PlatformMeters =
    [
        "System.Runtime",
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
    ];

    /// <summary>
    /// OpenTelemetry metrics for the service's meter (<c>orchestrator.*</c>: bots by status, restarts, updates,
    /// update duration, Telegram errors by method and code, 409 conflicts, reload duration by outcome) and the
    /// <see cref="PlatformMeters"/>, exported in Prometheus text format (served by
    /// <see cref="MetricsEndpointRouteBuilderExtensions.MapOrchestratorMetrics"/>). Labels are statuses, method names,
    /// error codes and outcomes only: never a token, a replica id or a URL.
    /// </summary>
    public static IServiceCollection AddOrchestratorMetrics(this IServiceCollection services)
    {
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(ServiceName))
            .WithMetrics(metrics => metrics
                .AddMeter(OrchestratorMetrics.MeterName)
                .AddMeter(PlatformMeters)
                .AddPrometheusExporter());
        return services;
    }
}

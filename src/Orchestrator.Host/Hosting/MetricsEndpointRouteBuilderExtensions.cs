namespace Orchestrator.Host.Hosting;

/// <summary>Serves the metrics registered by <see cref="MetricsServiceCollectionExtensions.AddOrchestratorMetrics"/>.</summary>
public static class MetricsEndpointRouteBuilderExtensions
{
    /// <summary>The Prometheus scrape path.</summary>
    public const string Path = "/metrics";

    /// <summary>
    /// <c>GET /metrics</c>: the Prometheus scrape endpoint (text format 0.0.4, or OpenMetrics when the scraper asks
    /// for it). Public like <c>/health</c>, since it holds no secret; not part of the OpenAPI document (like <c>/</c>,
    /// <c>/ui</c>, <c>/schema</c> and the dashboard, it is not a JSON API route).
    /// </summary>
    public static IEndpointConventionBuilder MapOrchestratorMetrics(this IEndpointRouteBuilder routes) =>
        routes.MapPrometheusScrapingEndpoint(Path)
            .WithName("GetMetrics")
            .WithSummary("Prometheus metrics")
            .ExcludeFromDescription();
}

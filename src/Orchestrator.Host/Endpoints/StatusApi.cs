using Microsoft.AspNetCore.Http.HttpResults;
using Orchestrator.Abstractions;

namespace Orchestrator.Host.Endpoints;

/// <summary><c>/health</c> and <c>/status</c>: public, read-only, never a secret.</summary>
public static class StatusApi
{
    /// <summary>How many bot grains are asked for their status at once.</summary>
    public const int MaxConcurrentStatusCalls = 64;

    public static RouteGroupBuilder MapStatusApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("").WithTags("Status");

        group.MapGet("/health", GetHealthAsync)
            .WithName("GetHealth")
            .WithSummary("healthy when every desired bot is running (200 either way), and the uptime in seconds");

        group.MapGet("/status", GetStatusAsync)
            .WithName("GetStatus")
            .WithSummary("One entry per bot: status, silo, restarts, last error, last poll, updates handled")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        return group;
    }

    /// <summary>
    /// Healthy when every desired bot is running. The bots their silos reported running (each health-check interval)
    /// count as running without a call; only the others are asked. Asking every bot cost a grain call per bot on each
    /// request: at 10,000 bots, a monitor polling <c>/health</c> took a burst of 10,000 calls from the silo each time.
    /// </summary>
    public static async Task<Ok<HealthResponse>> GetHealthAsync(IGrainFactory grains, Uptime uptime, CancellationToken cancellationToken)
    {
        bool healthy;
        try
        {
            var ids = await grains.GetGrain<IOrchestratorGrain>(GrainKeys.Orchestrator).GetBotIdsNotReportedRunningAsync().WaitAsync(cancellationToken);
            var reports = await AskAsync(grains, ids, cancellationToken);
            healthy = reports.Length == ids.Length && reports.All(r => r.Status == BotStatus.Running);
        }
        catch (Exception ex) when (Hosting.ApiExceptionHandler.IsClusterUnavailable(ex))
        {
            healthy = false;
        }

        return TypedResults.Ok(new HealthResponse(healthy ? "healthy" : "unhealthy", Math.Round(uptime.Elapsed.TotalSeconds, 3)));
    }

    public static async Task<Ok<BotStatusResponse[]>> GetStatusAsync(IGrainFactory grains, CancellationToken cancellationToken)
    {
        var ids = await grains.GetGrain<IOrchestratorGrain>(GrainKeys.Orchestrator).GetBotIdsAsync().WaitAsync(cancellationToken);
        var reports = await AskAsync(grains, ids, cancellationToken);
        return TypedResults.Ok(reports.Select(BotStatusResponse.From).ToArray());
    }

    /// <summary>The status of each of <paramref name="ids"/> (asked concurrently, bounded), in their order; none for a bot that has no definition.</summary>
    private static async Task<BotStatusReport[]> AskAsync(IGrainFactory grains, string[] ids, CancellationToken cancellationToken)
    {
        var reports = new BotStatusReport?[ids.Length];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, ids.Length),
            new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentStatusCalls, CancellationToken = cancellationToken },
            async (i, ct) => reports[i] = await grains.GetGrain<IBotGrain>(ids[i]).GetStatusAsync().WaitAsync(ct));
        return reports.OfType<BotStatusReport>().ToArray();
    }
}

/// <summary>Time since the process started.</summary>
public sealed class Uptime(TimeProvider time)
{
    private static readonly DateTimeOffset ProcessStart = System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime();

    public TimeSpan Elapsed => time.GetUtcNow() - ProcessStart;
}

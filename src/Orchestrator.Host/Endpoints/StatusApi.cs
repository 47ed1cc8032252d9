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

    public static async Task<Ok<HealthResponse>> GetHealthAsync(IGrainFactory grains, Uptime uptime, CancellationToken cancellationToken)
    {
        bool healthy;
        try
        {
            var (desired, reports) = await CollectAsync(grains, cancellationToken);
            healthy = reports.Length == desired && reports.All(r => r.Status == BotStatus.Running);
        }
        catch (Exception ex) when (Hosting.ApiExceptionHandler.IsClusterUnavailable(ex))
        {
            healthy = false;
        }

        return TypedResults.Ok(new HealthResponse(healthy ? "healthy" : "unhealthy", Math.Round(uptime.Elapsed.TotalSeconds, 3)));
    }

    public static async Task<Ok<BotStatusResponse[]>> GetStatusAsync(IGrainFactory grains, CancellationToken cancellationToken)
    {
        var (_, reports) = await CollectAsync(grains, cancellationToken);
        return TypedResults.Ok(reports.Select(BotStatusResponse.From).ToArray());
    }

    /// <summary>The desired set's size and the status of each of its bots (asked concurrently, bounded), in id order.</summary>
    internal static async Task<(int Desired, BotStatusReport[] Reports)> CollectAsync(IGrainFactory grains, CancellationToken cancellationToken)
    {
        var ids = await grains.GetGrain<IOrchestratorGrain>(GrainKeys.Orchestrator).GetBotIdsAsync().WaitAsync(cancellationToken);
        var reports = new BotStatusReport?[ids.Length];
        await Parallel.ForEachAsync(
            Enumerable.Range(0, ids.Length),
            new ParallelOptions { MaxDegreeOfParallelism = MaxConcurrentStatusCalls, CancellationToken = cancellationToken },
            async (i, ct) => reports[i] = await grains.GetGrain<IBotGrain>(ids[i]).GetStatusAsync().WaitAsync(ct));
        return (ids.Length, reports.OfType<BotStatusReport>().ToArray());
    }
}

/// <summary>Time since the process started.</summary>
public sealed class Uptime(TimeProvider time)
{
    private static readonly DateTimeOffset ProcessStart = System.Diagnostics.Process.GetCurrentProcess().StartTime.ToUniversalTime();

    public TimeSpan Elapsed => time.GetUtcNow() - ProcessStart;
}

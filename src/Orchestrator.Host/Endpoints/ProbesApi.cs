using System.Globalization;
using Microsoft.AspNetCore.Http.HttpResults;
using Orchestrator.Abstractions;

namespace Orchestrator.Host.Endpoints;

/// <summary>
/// <c>/alive</c> and <c>/ready</c>: probes for container orchestrators. Unlike <c>/health</c> (every desired bot
/// running, which one revoked token breaks), they say whether this process should be restarted (liveness) or be
/// sent traffic (readiness).
/// </summary>
public static class ProbesApi
{
    /// <summary>How long the readiness probe waits for the local grain call.</summary>
    public static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(2);

    /// <summary>Seconds a probe should wait before asking again after a 503.</summary>
    public const int RetryAfterSeconds = 5;

    public static RouteGroupBuilder MapProbesApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("").WithTags("Probes");

        group.MapGet("/alive", GetAlive)
            .WithName("GetAlive")
            .WithSummary("Liveness: 200 while the process serves HTTP (independent of bots and of the cluster)");

        group.MapGet("/ready", GetReadyAsync)
            .WithName("GetReady")
            .WithSummary("Readiness: 200 when this silo is active and answers a local grain call, else 503 with Retry-After")
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        return group;
    }

    public static Ok<ProbeResponse> GetAlive() => TypedResults.Ok(new ProbeResponse("alive"));

    public static Task<Results<Ok<ProbeResponse>, ProblemHttpResult>> GetReadyAsync(
        ISiloStatusOracle silo,
        IGrainFactory grains,
        HttpResponse response,
        CancellationToken cancellationToken) =>
        CheckReadyAsync(silo.CurrentStatus, () => grains.GetGrain<IProbeGrain>(GrainKeys.Probe).PingAsync(), response, cancellationToken);

    /// <summary>
    /// Ready when the silo is <see cref="SiloStatus.Active"/> and <paramref name="ping"/> (a call to this silo's local
    /// <see cref="IProbeGrain"/>) returns within <see cref="ReadyTimeout"/>; otherwise 503 with <c>Retry-After</c>.
    /// </summary>
    internal static async Task<Results<Ok<ProbeResponse>, ProblemHttpResult>> CheckReadyAsync(
        SiloStatus status,
        Func<Task> ping,
        HttpResponse response,
        CancellationToken cancellationToken)
    {
        if (status != SiloStatus.Active)
        {
            return NotReady(response, $"The silo is {status.ToString().ToLowerInvariant()}, not active.");
        }

        try
        {
            await ping().WaitAsync(ReadyTimeout, cancellationToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var reason = ex is TimeoutException ? $"did not answer within {ReadyTimeout.TotalSeconds:0.#} s" : $"failed ({ex.GetType().Name})";
            return NotReady(response, $"A local grain call {reason}.");
        }

        return TypedResults.Ok(new ProbeResponse("ready"));
    }

    private static ProblemHttpResult NotReady(HttpResponse response, string detail)
    {
        response.Headers.RetryAfter = RetryAfterSeconds.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(detail, statusCode: StatusCodes.Status503ServiceUnavailable, title: "Not ready");
    }
}

/// <summary>Body of <c>GET /alive</c> and a successful <c>GET /ready</c>.</summary>
/// <param name="Status"><c>alive</c> or <c>ready</c>.</param>
public sealed record ProbeResponse(string Status);

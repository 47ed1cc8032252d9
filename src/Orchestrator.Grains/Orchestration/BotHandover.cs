using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Orchestrator.Abstractions;
using Orchestrator.Grains.Bots;

namespace Orchestrator.Grains.Orchestration;

/// <summary>
/// Stops this silo's bots before the silo leaves the cluster. Orleans deactivates grains only after membership lists
/// the silo as shutting down, and from then on another silo may activate a bot whose old activation is still stopping:
/// two pollers on one token (Telegram answers one with 409), and the old activation's last state write turning the new
/// one stale. So at the first stage of the silo's stop (<see cref="ServiceLifecycleStage.Active"/>, while membership
/// still lists it active) every bot here stops its loop, persists and confirms its offset, and no loop starts here
/// again; their deactivation then has nothing left to stop.
/// </summary>
public sealed partial class BotHandover(
    IGrainFactory grains,
    LocalBots localBots,
    IClusterMembershipService membership,
    ILocalSiloDetails silo,
    ILogger<BotHandover> logger)
    : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>Bots stopped at once: each waits at most the graceful timeout for its replies in flight.</summary>
    private const int Concurrency = 512;

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(BotHandover), ServiceLifecycleStage.Active, _ => Task.CompletedTask, OnStopAsync);

    private async Task OnStopAsync(CancellationToken cancellationToken)
    {
        // Other active silos mean a cluster, whose storage is shared: the bots' successors start from their persisted
        // offsets. A silo alone (embedded, in-memory state) must confirm to Telegram itself as its bots stop.
        var successorsActive = membership.CurrentSnapshot.Members.Values
            .Any(m => m.Status == SiloStatus.Active && !m.SiloAddress.Equals(silo.SiloAddress));
        localBots.BeginSiloStop(successorsActive);
        var bots = localBots.All.Select(b => b.ReplicaUuid).ToArray();
        var started = Stopwatch.GetTimestamp();
        try
        {
            await Parallel.ForEachAsync(
                bots,
                new ParallelOptions { MaxDegreeOfParallelism = Concurrency, CancellationToken = cancellationToken },
                async (replicaUuid, _) =>
                {
                    try
                    {
                        await grains.GetGrain<IBotGrain>(replicaUuid).HandOverAsync().ConfigureAwait(false);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // Its deactivation stops it as before, only later.
                        LogHandOverFailed(logger, replicaUuid, ex);
                    }
                }).ConfigureAwait(false);
            LogHandedOver(logger, bots.Length, Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The host's shutdown budget ran out: deactivation stops the rest.
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopped {Count} bots before leaving the cluster ({ElapsedMs:0} ms)")]
    private static partial void LogHandedOver(ILogger logger, int count, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bot {ReplicaUuid} could not be stopped before leaving the cluster")]
    private static partial void LogHandOverFailed(ILogger logger, string replicaUuid, Exception exception);
}

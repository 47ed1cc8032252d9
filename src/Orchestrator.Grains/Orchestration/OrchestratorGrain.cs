using Microsoft.Extensions.Logging;
using Orchestrator.Abstractions;

namespace Orchestrator.Grains.Orchestration;

/// <summary>
/// The cluster's coordinator: holds the desired set of bots (persisted, so a restarted cluster knows it before Sensay
/// answers) and makes the bot grains match it. REST changes go through here, so create/update/delete of one bot are
/// serialised and a POST of an existing bot can never start a second poller.
/// </summary>
public sealed partial class OrchestratorGrain(
    [PersistentState(StateNames.DesiredSet, StorageNames.Orchestrator)] IPersistentState<DesiredSetState> state,
    ILogger<OrchestratorGrain> logger) : Grain, IOrchestratorGrain
{
    private Dictionary<string, BotDefinition> Bots => state.State.Bots;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        LogActivated(logger, Bots.Count, RuntimeIdentity);

        // Bring every desired bot up (again): after a cluster restart or a failover, their activations are gone.
        this.RegisterGrainTimer(EnsureBotsRunningAsync, new GrainTimerCreationOptions
        {
            DueTime = TimeSpan.Zero,
            Period = Timeout.InfiniteTimeSpan,
            Interleave = true,
        });
        return Task.CompletedTask;
    }

    Task IOrchestratorGrain.EnsureStartedAsync() => Task.CompletedTask;

    async Task<CreateBotResult> IOrchestratorGrain.CreateBotAsync(BotDefinition definition)
    {
        if (Bots.ContainsKey(definition.ReplicaUuid))
        {
            return CreateBotResult.AlreadyExists;
        }

        Bots[definition.ReplicaUuid] = definition;
        await state.WriteStateAsync();
        await Bot(definition.ReplicaUuid).ApplyAsync(definition);
        LogBotAdded(logger, definition.ReplicaUuid, definition.ReplicaSlug);
        return CreateBotResult.Created;
    }

    async Task<UpdateBotResult> IOrchestratorGrain.UpdateBotAsync(string replicaUuid, BotPatch patch)
    {
        if (!Bots.TryGetValue(replicaUuid, out var current))
        {
            if (patch.Token is null)
            {
                return UpdateBotResult.NotFound;
            }

            if (string.IsNullOrWhiteSpace(patch.ReplicaSlug))
            {
                return UpdateBotResult.SlugRequired;
            }

            var created = new BotDefinition(replicaUuid, patch.ReplicaSlug, patch.OwnerUuid, patch.Token);
            Bots[replicaUuid] = created;
            await state.WriteStateAsync();
            await Bot(replicaUuid).ApplyAsync(created);
            LogBotAdded(logger, replicaUuid, created.ReplicaSlug);
            return UpdateBotResult.Created;
        }

        var updated = current with
        {
            ReplicaSlug = patch.ReplicaSlug ?? current.ReplicaSlug,
            OwnerUuid = patch.OwnerUuid ?? current.OwnerUuid,
            Token = patch.Token ?? current.Token,
        };
        if (updated != current)
        {
            Bots[replicaUuid] = updated;
            await state.WriteStateAsync();
            LogBotUpdated(logger, replicaUuid, updated.ReplicaSlug);
        }

        // Applying an unchanged definition leaves a running bot alone and revives a failed one.
        await Bot(replicaUuid).ApplyAsync(updated);
        return updated == current ? UpdateBotResult.Unchanged : UpdateBotResult.Updated;
    }

    async Task<bool> IOrchestratorGrain.DeleteBotAsync(string replicaUuid)
    {
        if (!Bots.Remove(replicaUuid))
        {
            return false;
        }

        await state.WriteStateAsync();
        await Bot(replicaUuid).RemoveAsync();
        LogBotRemoved(logger, replicaUuid);
        return true;
    }

    Task<string[]> IOrchestratorGrain.GetBotIdsAsync() => Task.FromResult(Bots.Keys.Order(StringComparer.Ordinal).ToArray());

    private IBotGrain Bot(string replicaUuid) => GrainFactory.GetGrain<IBotGrain>(replicaUuid);

    private async Task EnsureBotsRunningAsync(CancellationToken cancellationToken)
    {
        var definitions = Bots.Values.ToArray();
        await Parallel.ForEachAsync(
            definitions,
            new ParallelOptions { MaxDegreeOfParallelism = 64, CancellationToken = cancellationToken, TaskScheduler = TaskScheduler.Current },
            async (definition, _) =>
            {
                try
                {
                    await Bot(definition.ReplicaUuid).ApplyAsync(definition);
                }
                catch (Exception ex)
                {
                    LogWakeFailed(logger, definition.ReplicaUuid, ex);
                }
            });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Orchestrator activated on {Silo} with {Count} desired bots")]
    private static partial void LogActivated(ILogger logger, int count, string silo);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bot {ReplicaUuid} ({ReplicaSlug}) added")]
    private static partial void LogBotAdded(ILogger logger, string replicaUuid, string replicaSlug);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bot {ReplicaUuid} ({ReplicaSlug}) updated")]
    private static partial void LogBotUpdated(ILogger logger, string replicaUuid, string replicaSlug);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bot {ReplicaUuid} removed")]
    private static partial void LogBotRemoved(ILogger logger, string replicaUuid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bot {ReplicaUuid} could not be started")]
    private static partial void LogWakeFailed(ILogger logger, string replicaUuid, Exception exception);
}

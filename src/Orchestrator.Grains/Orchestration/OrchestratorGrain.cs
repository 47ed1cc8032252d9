using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Abstractions;
using Orchestrator.Grains.Bots;
using Orchestrator.Grains.Telemetry;

namespace Orchestrator.Grains.Orchestration;

/// <summary>
/// The cluster's coordinator: holds the desired set of bots (persisted, so a restarted cluster knows it before Sensay
/// answers), makes the bot grains match it, and reconciles it with Sensay on its own cadence. REST changes go through
/// here, so create/update/delete of one bot are serialised and a POST of an existing bot never starts a second poller.
/// </summary>
/// <remarks>
/// A reminder (minimum period one minute) only keeps the grain alive and brings it back after its silo died; the
/// real cadences (reload, status print) run on grain timers, which may be as short as configured. Timer ticks
/// interleave with grain calls, so a slow upstream never blocks the REST API; every state change happens
/// synchronously between awaits, so interleaving cannot tear the desired set.
/// </remarks>
public sealed partial class OrchestratorGrain(
    [PersistentState(StateNames.DesiredSet, StorageNames.Orchestrator)] IPersistentState<DesiredSetState> state,
    IBotDefinitionSource source,
    IOptions<OrchestratorOptions> options,
    IOptions<BotOptions> botOptions,
    OrchestratorMetrics metrics,
    IClusterMembershipService membership,
    TimeProvider time,
    ILogger<OrchestratorGrain> logger) : Grain, IOrchestratorGrain, IRemindable
{
    private static readonly TimeSpan KeepAlivePeriod = TimeSpan.FromMinutes(1);

    private readonly OrchestratorOptions _options = options.Value;
    private readonly BotOptions _botOptions = botOptions.Value;
    private HashSet<string> _heldRemovals = new(StringComparer.Ordinal);
    private Task<ReloadReport>? _reload;

    // Bots changed through the REST API while a reload was loading: that reload's upstream snapshot may predate the
    // change, so it leaves them alone; the next reload reconciles them.
    private readonly HashSet<string> _changedDuringReload = new(StringComparer.Ordinal);
    private StateWriteQueue? _writes;
    private readonly HostedBots _hosted = new();
    private IGrainTimer? _healthSweep;

    private Dictionary<string, BotDefinition> Bots => state.State.Bots;

    /// <inheritdoc />
    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        LogActivated(logger, Bots.Count, RuntimeIdentity);
        await this.RegisterOrUpdateReminder(ReminderNames.OrchestratorKeepAlive, KeepAlivePeriod, KeepAlivePeriod);

        // First bring the persisted desired set up (after a cluster restart or a failover their activations are
        // gone, and Sensay may be slow or down), then reload from upstream, then on the reload cadence.
        this.RegisterGrainTimer(StartupAsync, new GrainTimerCreationOptions
        {
            DueTime = TimeSpan.Zero,
            Period = Timeout.InfiniteTimeSpan,
            Interleave = true,
        });
        if (source.IsConfigured)
        {
            this.RegisterGrainTimer(ReloadTickAsync, new GrainTimerCreationOptions
            {
                DueTime = _options.ReloadInterval,
                Period = _options.ReloadInterval,
                Interleave = true,
            });
        }

        _healthSweep = this.RegisterGrainTimer(CheckHealthAsync, new GrainTimerCreationOptions
        {
            DueTime = _botOptions.HealthCheckInterval,
            Period = _botOptions.HealthCheckInterval,
            Interleave = true,
        });
        this.RegisterGrainTimer(PrintStatusAsync, new GrainTimerCreationOptions
        {
            DueTime = _options.PrintStatusInterval,
            Period = _options.PrintStatusInterval,
            Interleave = true,
        });
    }

    Task IRemindable.ReceiveReminder(string reminderName, TickStatus status) => Task.CompletedTask;

    Task IOrchestratorGrain.EnsureStartedAsync() => Task.CompletedTask;

    async Task<CreateBotResult> IOrchestratorGrain.CreateBotAsync(BotDefinition definition)
    {
        if (Bots.ContainsKey(definition.ReplicaUuid))
        {
            return CreateBotResult.AlreadyExists;
        }

        Bots[definition.ReplicaUuid] = definition;
        NoteRestChange(definition.ReplicaUuid);
        await SaveStateAsync();
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
            NoteRestChange(replicaUuid);
            await SaveStateAsync();
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
            NoteRestChange(replicaUuid);
            await SaveStateAsync();
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

        NoteRestChange(replicaUuid);
        await SaveStateAsync();
        await Bot(replicaUuid).RemoveAsync();
        LogBotRemoved(logger, replicaUuid);
        return true;
    }

    Task<string[]> IOrchestratorGrain.GetBotIdsAsync() => Task.FromResult(Bots.Keys.Order(StringComparer.Ordinal).ToArray());

    Task<string[]> IOrchestratorGrain.GetBotIdsNotReportedRunningAsync()
    {
        PruneHostedReports();
        return Task.FromResult(_hosted.NotReportedRunning(Bots.Values).Select(d => d.ReplicaUuid).ToArray());
    }

    Task IOrchestratorGrain.ReportHostedBotsAsync(HostedBotsReport report)
    {
        _hosted.Record(report, time.GetUtcNow());
        if (_hosted.HasReportFromInactive(ActiveSilos()))
        {
            // A silo that reported is gone (its survivors report at once when membership says so): sweep now, so
            // its bots move without waiting for the next interval.
            _healthSweep?.Change(TimeSpan.Zero, _botOptions.HealthCheckInterval);
        }

        return Task.CompletedTask;
    }

    Task<ReloadReport> IOrchestratorGrain.ReloadAsync() => ReloadAsync();

    private IBotGrain Bot(string replicaUuid) => GrainFactory.GetGrain<IBotGrain>(replicaUuid);

    private void NoteRestChange(string replicaUuid)
    {
        if (_reload is { IsCompleted: false })
        {
            _changedDuringReload.Add(replicaUuid);
        }
    }

    /// <summary>
    /// Persists the desired set. REST calls and the reload timer interleave, and two overlapping writes of one
    /// <see cref="IPersistentState{T}"/> would conflict on the ETag: writes are serialised, and a caller returns once
    /// a write that started after its change has completed.
    /// </summary>
    private Task SaveStateAsync() => (_writes ??= new StateWriteQueue(() => state.WriteStateAsync())).WriteAsync();

    private async Task StartupAsync(CancellationToken cancellationToken)
    {
        // A health check, not an apply: it activates the bot (which resumes from its state), adopts a definition its
        // state lost, but leaves a failed bot failed; only a reload or a PUT revives one (an apply here revived
        // every failed bot at each cluster restart, calling Telegram with tokens it had rejected).
        await ForEachAsync(Bots.Values.ToArray(), async definition => await Bot(definition.ReplicaUuid).CheckHealthAsync(definition));
        if (source.IsConfigured)
        {
            await ReloadAsync();
        }
    }

    private Task ReloadTickAsync(CancellationToken cancellationToken) => ReloadAsync();

    /// <summary>Runs one reload; reloads never overlap (a second caller waits for the first, then runs its own).</summary>
    private async Task<ReloadReport> ReloadAsync()
    {
        // A completed task left behind must not be awaited in a loop (it would spin synchronously forever).
        while (_reload is { IsCompleted: false } running)
        {
            await running;
        }

        var reload = ReloadCoreAsync();
        _reload = reload;
        var report = await reload;
        if (report.Outcome != ReloadOutcome.NotConfigured)
        {
            metrics.Reloaded(report.Outcome, report.Duration);
        }

        return report;
    }

    private async Task<ReloadReport> ReloadCoreAsync()
    {
        if (!source.IsConfigured)
        {
            return new ReloadReport { Outcome = ReloadOutcome.NotConfigured };
        }

        var started = time.GetTimestamp();
        _changedDuringReload.Clear();
        IReadOnlyList<BotDefinition> upstream;
        try
        {
            using var timeout = new CancellationTokenSource(_options.ReloadTimeout, time);
            upstream = await source.LoadAsync(timeout.Token);
        }
        catch (Exception ex)
        {
            var error = ex is BotSourceException ? ex.Message : $"{ex.GetType().Name} while loading bots";
            LogReloadFailed(logger, error);
            return new ReloadReport { Outcome = ReloadOutcome.Failed, Error = error, Duration = time.GetElapsedTime(started) };
        }

        // From here to the state write nothing awaits, so REST calls cannot interleave with the diff. Bots changed
        // through REST while loading keep what REST said: the snapshot may predate the change.
        var skipped = _changedDuringReload.ToHashSet(StringComparer.Ordinal);
        _changedDuringReload.Clear();
        var current = skipped.Count == 0 ? Bots : Bots.Where(b => !skipped.Contains(b.Key)).ToDictionary(StringComparer.Ordinal);
        var diff = DesiredSetDiff.Compute(current, skipped.Count == 0 ? upstream : upstream.Where(d => !skipped.Contains(d.ReplicaUuid)));
        var removalsAllowed = MassRemovalGuard.MayApply(Bots.Count, diff.Removed, _heldRemovals);
        if (removalsAllowed)
        {
            _heldRemovals.Clear();
        }
        else
        {
            _heldRemovals = new HashSet<string>(diff.Removed, StringComparer.Ordinal);
            LogRemovalHeld(logger, diff.Removed.Count, Bots.Count);
        }

        foreach (var definition in diff.Added.Concat(diff.Changed))
        {
            Bots[definition.ReplicaUuid] = definition;
        }

        if (removalsAllowed)
        {
            foreach (var replicaUuid in diff.Removed)
            {
                Bots.Remove(replicaUuid);
            }
        }

        if (diff.Added.Count > 0 || diff.Changed.Count > 0 || (removalsAllowed && diff.Removed.Count > 0))
        {
            await SaveStateAsync();
        }

        // Apply to the grains. A REST call may have changed a bot meanwhile: only apply what is still desired.
        var unchanged = diff.Unchanged.Select(d => d.ReplicaUuid).ToHashSet(StringComparer.Ordinal);
        var revived = 0;
        await ForEachAsync(diff.Added.Concat(diff.Changed).Concat(diff.Unchanged).ToArray(), async definition =>
        {
            if (Bots.TryGetValue(definition.ReplicaUuid, out var current) && current == definition
                && await Bot(definition.ReplicaUuid).ApplyAsync(definition) && unchanged.Contains(definition.ReplicaUuid))
            {
                revived++;
            }
        });
        if (removalsAllowed)
        {
            await ForEachAsync(diff.Removed.ToArray(), async replicaUuid =>
            {
                if (!Bots.ContainsKey(replicaUuid))
                {
                    await Bot(replicaUuid).RemoveAsync();
                }
            });
        }

        var report = new ReloadReport
        {
            Outcome = removalsAllowed ? ReloadOutcome.Applied : ReloadOutcome.RemovalHeld,
            Added = diff.Added.Count,
            Changed = diff.Changed.Count,
            Removed = removalsAllowed ? diff.Removed.Count : 0,
            Held = removalsAllowed ? 0 : diff.Removed.Count,
            Revived = revived,
            Duration = time.GetElapsedTime(started),
        };
        LogReloaded(logger, upstream.Count, report.Added, report.Changed, report.Removed, report.Revived, report.Held, report.Duration.TotalMilliseconds);
        return report;
    }

    /// <summary>
    /// The supervisor's sweep. It lives here, not in each bot, because a bot whose silo died has no activation left to
    /// check itself: calling it activates it on a survivor. Every silo reports its healthy bots each interval
    /// (<see cref="SiloBotReporter"/>), so the sweep calls only the bots no active silo vouches for: a dead silo's, hung
    /// or dead loops, lost definitions, and bots newer than their silo's last report. A check slower than the
    /// health-check timeout counts as failed.
    /// </summary>
    private async Task CheckHealthAsync(CancellationToken cancellationToken)
    {
        PruneHostedReports();
        var needing = _hosted.NeedingCheck(Bots.Values);
        metrics.HealthSwept(Bots.Count, needing.Count);
        LogHealthSweep(logger, needing.Count, Bots.Count);
        var failed = 0;
        await ForEachAsync(needing, async definition =>
        {
            // A REST call may have removed or changed the bot since the snapshot: never resurrect it.
            if (!Bots.TryGetValue(definition.ReplicaUuid, out var current) || current != definition)
            {
                return;
            }

            try
            {
                await Bot(definition.ReplicaUuid).CheckHealthAsync(definition).WaitAsync(_botOptions.HealthCheckTimeout, time);
            }
            catch (TimeoutException)
            {
                failed++;
            }
        });
        if (failed > 0)
        {
            LogHealthChecksFailed(logger, failed, needing.Count, _botOptions.HealthCheckTimeout.TotalMilliseconds);
        }
    }

    /// <summary>Forgets the reports of silos that left, or that stopped reporting (three intervals).</summary>
    private void PruneHostedReports() =>
        _hosted.Prune(ActiveSilos(), time.GetUtcNow() - (3 * _botOptions.HealthCheckInterval));

    /// <summary>Whether membership, as this silo sees it now, lists a silo as active.</summary>
    private Func<SiloAddress, bool> ActiveSilos()
    {
        var snapshot = membership.CurrentSnapshot;
        return silo => snapshot.GetSiloStatus(silo) == SiloStatus.Active;
    }

    /// <summary>
    /// Logs the status table. Bots their silos report running are counted from the reports; only the others are asked
    /// for their details (at steady state a handful, not every bot once a minute).
    /// </summary>
    private async Task PrintStatusAsync(CancellationToken cancellationToken)
    {
        PruneHostedReports();
        var toAsk = _hosted.NotReportedRunning(Bots.Values);
        var reports = new List<BotStatusReport>(toAsk.Count);
        var unreachable = 0;
        await ForEachAsync(toAsk, async definition =>
        {
            try
            {
                if (await Bot(definition.ReplicaUuid).GetStatusAsync() is { } report)
                {
                    reports.Add(report);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                unreachable++;
            }
        });
        LogStatusTable(logger, StatusTable.Format(reports, Bots.Count, unreachable, reportedRunning: Bots.Count - toAsk.Count));
    }

    /// <summary>Runs <paramref name="action"/> for each item with bounded concurrency, on this grain's scheduler.</summary>
    private Task ForEachAsync<T>(IReadOnlyCollection<T> items, Func<T, Task> action) =>
        Parallel.ForEachAsync(
            items,
            new ParallelOptions { MaxDegreeOfParallelism = _options.ApplyConcurrency, TaskScheduler = TaskScheduler.Current },
            async (item, _) =>
            {
                try
                {
                    await action(item);
                }
                catch (Exception ex)
                {
                    LogBotCallFailed(logger, item?.ToString(), ex);
                }
            });

    [LoggerMessage(Level = LogLevel.Information, Message = "Orchestrator activated on {Silo} with {Count} desired bots")]
    private static partial void LogActivated(ILogger logger, int count, string silo);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bot {ReplicaUuid} ({ReplicaSlug}) added")]
    private static partial void LogBotAdded(ILogger logger, string replicaUuid, string replicaSlug);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bot {ReplicaUuid} ({ReplicaSlug}) updated")]
    private static partial void LogBotUpdated(ILogger logger, string replicaUuid, string replicaSlug);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bot {ReplicaUuid} removed")]
    private static partial void LogBotRemoved(ILogger logger, string replicaUuid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Call to bot {Bot} failed")]
    private static partial void LogBotCallFailed(ILogger logger, string? bot, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reload failed, nothing changed; retrying at the next tick: {Error}")]
    private static partial void LogReloadFailed(ILogger logger, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reload would stop {Removed} of {Count} bots; held until the next reload confirms it")]
    private static partial void LogRemovalHeld(ILogger logger, int removed, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reloaded {Upstream} bots from upstream: {Added} added, {Changed} changed, {Removed} removed, {Revived} restarted, {Held} removals held ({DurationMs:0} ms)")]
    private static partial void LogReloaded(ILogger logger, int upstream, int added, int changed, int removed, int revived, int held, double durationMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Failed} of {Count} health checks took longer than {TimeoutMs} ms")]
    private static partial void LogHealthChecksFailed(ILogger logger, int failed, int count, double timeoutMs);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Health sweep: checking {Checked} of {Count} bots; their silos vouch for the rest")]
    private static partial void LogHealthSweep(ILogger logger, int @checked, int count);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Table}")]
    private static partial void LogStatusTable(ILogger logger, string table);
}

using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Abstractions;
using Orchestrator.Grains.Conversations;
using Orchestrator.Grains.Telemetry;
using Orchestrator.Telegram;
using Orleans.Storage;
using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace Orchestrator.Grains.Bots;

/// <summary>
/// One Telegram bot. The long-poll loop is started from <see cref="OnActivateAsync"/> (not inside a timer tick, which
/// would block deactivation), runs on the activation's scheduler with its own cancellation, and is cancelled and
/// awaited in <see cref="OnDeactivateAsync"/>. The loop's code interleaves with grain calls at every await.
/// </summary>
[KeepAlive]
public sealed partial class BotGrain(
    [PersistentState(StateNames.Bot, StorageNames.Bots)] IPersistentState<BotState> state,
    TelegramClientFactory telegram,
    IConversationFactory conversations,
    IOptions<BotOptions> botOptions,
    IOptions<TelegramClientOptions> telegramOptions,
    BotStartPacer pacer,
    UpstreamLimiter upstream,
    LocalBots localBots,
    OrchestratorMetrics metrics,
    TimeProvider time,
    ILogger<BotGrain> logger) : Grain, IBotGrain
{
    private static readonly UpdateType[] AllowedUpdates = [UpdateType.Message];

    private readonly BotOptions _options = botOptions.Value;
    private readonly int _pollTimeoutSeconds = telegramOptions.Value.PollTimeoutSeconds;
    private BotRun? _run;
    private BotStatus _status = BotStatus.Stopped;
    private DateTimeOffset? _statusSince;
    private DateTimeOffset? _nextRestartAt;
    private StateWriteQueue? _writes;

    /// <summary>What this activation publishes to its silo (status, health) for the silo's report and the metrics.</summary>
    private LocalBot _local = null!;

    /// <summary>A state write met a newer version: another activation of this bot took over, this one must not answer.</summary>
    private bool _stale;

    /// <summary>
    /// Deactivating because the silo shuts down. Its last write may find the storage gone (in-memory storage is
    /// itself a set of grains, deactivating too): one debug line per bot then, not an error with a stack trace each.
    /// </summary>
    private bool _siloStopping;

    private BotState State => state.State;

    private string ReplicaUuid => this.GetPrimaryKeyString();

    /// <summary>A running bot is healthy while its last poll answered within this (SPEC §5): Telegram answers within the poll timeout.</summary>
    private TimeSpan PollHealthyWithin => TimeSpan.FromSeconds(_pollTimeoutSeconds) + _options.HealthCheckTimeout;

    /// <summary>A poll that has not answered by then is hung, and cancelled.</summary>
    private TimeSpan PollDeadline => PollHealthyWithin + _options.PollGrace;

    /// <inheritdoc />
    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _local = localBots.Track(ReplicaUuid);
        _local.SetDefinition(State.Definition);
        if (State.Definition is not null && State.FailedReason is null)
        {
            StartRun(State.Definition);
        }
        else if (State.FailedReason is not null)
        {
            SetStatus(BotStatus.Failed, State.FailedSince);
        }

        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        LogDeactivating(logger, ReplicaUuid, reason.ReasonCode);
        _siloStopping = reason.ReasonCode == DeactivationReasonCode.ShuttingDown;
        try
        {
            await StopRunAsync().WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The runtime's deactivation budget ran out; the run's tokens are cancelled, nothing else to wait for.
        }

        localBots.Forget(_local);
    }

    async Task<bool> IBotGrain.ApplyAsync(BotDefinition definition)
    {
        var current = State.Definition;
        if (current == definition && State.FailedReason is null && _run is not null)
        {
            return false;
        }

        await StopRunAsync();

        if (State.ProgressBotId != definition.TelegramBotId)
        {
            // Another Telegram bot: its update ids have nothing to do with the old one's.
            State.Offset = 0;
            State.HandledAboveOffset.Clear();
            State.BotUsername = null;
            State.ProgressBotId = definition.TelegramBotId;
        }

        if (current is not null && current != definition)
        {
            State.Restarts++;
            metrics.Restarted();
        }

        State.Definition = definition;
        _local.SetDefinition(definition);
        State.FailedReason = null;
        State.FailedSince = null;
        State.ConsecutiveFailures = 0;
        await SaveStateAsync();
        LogApplied(logger, ReplicaUuid, definition.ReplicaSlug);
        StartRun(definition);
        return true;
    }

    async Task IBotGrain.RemoveAsync()
    {
        if (State.Definition is null)
        {
            return;
        }

        await StopRunAsync();
        // Forget the bot but keep its Telegram progress: re-created with the same token, it resumes at the offset
        // and still knows which updates above it were answered.
        state.State = new BotState
        {
            Offset = State.Offset,
            HandledAboveOffset = State.HandledAboveOffset,
            ProgressBotId = State.ProgressBotId,
        };
        await SaveStateAsync();
        _local.SetDefinition(null);
        SetStatus(BotStatus.Stopped);
        LogRemoved(logger, ReplicaUuid);
        DeactivateOnIdle();
    }

    Task<BotStatusReport?> IBotGrain.GetStatusAsync() => Task.FromResult(BuildReport());

    async Task IBotGrain.HandOverAsync()
    {
        // LocalBots.SiloStopping is already set, so nothing starts the loop here again.
        await StopRunAsync();
        LogHandedOver(logger, ReplicaUuid);
    }

    async Task<BotStatus> IBotGrain.CheckHealthAsync(BotDefinition expected)
    {
        if (State.Definition != expected)
        {
            // The supervisor's desired set is the truth: this activation lost or never got the definition. Never got
            // it is routine: at start the sweep reaches bots before the first reload's pages do.
            if (State.Definition is null)
            {
                LogAdoptingFirst(logger, ReplicaUuid);
            }
            else
            {
                LogAdopting(logger, ReplicaUuid);
            }

            await ((IBotGrain)this).ApplyAsync(expected);
        }
        else if (!localBots.SiloStopping && _local.NeedsCheck(time.GetUtcNow(), _options.HealthCheckInterval))
        {
            // The loop died without failing the bot, or hangs past every deadline it set itself: replace it.
            State.ConsecutiveFailures++;
            State.Restarts++;
            metrics.Restarted();
            RecordError("the loop stopped making progress and was replaced");
            LogReplacingLoop(logger, ReplicaUuid, State.ConsecutiveFailures);
            await StopRunAsync();
            if (State.ConsecutiveFailures >= _options.MaxFailedRestarts)
            {
                await FailAsync($"gave up after {State.ConsecutiveFailures} consecutive failures; last: {State.LastError}");
            }
            else
            {
                await SaveStateAsync();
                StartRun(expected, Backoff.RestartDelay(State.ConsecutiveFailures, _options.HealthCheckInterval, _options.RestartBackoffCap));
            }
        }

        return CurrentStatus().Status;
    }

    private BotStatusReport? BuildReport()
    {
        if (State.Definition is not { } definition)
        {
            return null;
        }

        var (status, since) = CurrentStatus();
        return new BotStatusReport
        {
            ReplicaUuid = definition.ReplicaUuid,
            ReplicaSlug = definition.ReplicaSlug,
            OwnerUuid = definition.OwnerUuid,
            Status = status,
            StatusSince = since,
            Silo = RuntimeIdentity,
            BotUsername = State.BotUsername,
            Restarts = State.Restarts,
            ConsecutiveFailures = State.ConsecutiveFailures,
            LastError = State.FailedReason ?? State.LastError,
            LastErrorAt = State.FailedSince ?? State.LastErrorAt,
            LastPollAt = _run?.LastPollAt,
            UpdatesHandled = State.UpdatesHandled,
            Conflicts = State.Conflicts,
            NextRestartAt = status == BotStatus.Restarting ? _nextRestartAt : null,
        };
    }

    private (BotStatus Status, DateTimeOffset? Since) CurrentStatus()
    {
        if (State.FailedReason is not null)
        {
            return (BotStatus.Failed, State.FailedSince);
        }

        if (_run is null)
        {
            return (BotStatus.Stopped, _statusSince);
        }

        // Healthy while making progress: the last getUpdates answered within the poll timeout plus the health-check
        // timeout. A hung poll, or a loop stuck in retries, turns the bot unhealthy; /health and the silo's report read
        // the same rule (LocalBot.ObservedStatus).
        var now = time.GetUtcNow();
        if (_status == BotStatus.Running && _local.ObservedStatus(now) == BotStatus.Unhealthy)
        {
            return (BotStatus.Unhealthy, _local.HealthyUntil is { } until && until < now ? until : now);
        }

        return (_status, _statusSince);
    }

    private void SetStatus(BotStatus status, DateTimeOffset? since = null)
    {
        if (_status != status || _statusSince is null)
        {
            _status = status;
            _statusSince = since ?? time.GetUtcNow();
            _local.Status = status;
        }
    }

    /// <summary>
    /// Starts a run of the loop, after <paramref name="delay"/> when it replaces a failed one; none while the silo hands
    /// its bots over (the bot then runs once activated on another silo).
    /// </summary>
    private void StartRun(BotDefinition definition, TimeSpan delay = default)
    {
        if (localBots.SiloStopping)
        {
            return;
        }

        var run = new BotRun(definition, State.Offset);
        _run = run;
        SetStatus(BotStatus.Restarting);
        run.Loop = RunAsync(run, delay);
        _local.RunStarted(run.Loop);
    }

    /// <summary>
    /// Stops the current run: the long poll is cancelled at once, in-flight replies get the graceful timeout, the
    /// offset is persisted and what was handled is confirmed to Telegram.
    /// </summary>
    private async Task StopRunAsync()
    {
        if (_run is not { } run)
        {
            return;
        }

        _run = null;
        _local.RunStopped();
        await run.Stopping.CancelAsync();
        run.Handling.CancelAfter(_options.GracefulShutdownTimeout);
        try
        {
            await run.Loop;
            await Task.WhenAll(run.Handlers.Values);
        }
        catch (Exception ex)
        {
            LogUnexpected(logger, ReplicaUuid, ex);
        }

        // The offset is persisted before Telegram is told: a crash in between re-answers nothing.
        await SaveStateAsync();
        await ConfirmToTelegramAsync(run);
        run.Dispose();
        if (State.FailedReason is null)
        {
            SetStatus(BotStatus.Stopped);
        }
    }

    /// <summary>A last getUpdates with the new offset and timeout 0, so a restart does not see handled updates again.</summary>
    private async Task ConfirmToTelegramAsync(BotRun run)
    {
        var offset = run.ConfirmableOffset;
        if (run.Poller is null || offset <= run.ConfirmedToTelegram || _stale || localBots.HandingOver)
        {
            // Nothing new to confirm; or this copy is stale, and its getUpdates would cut the live copy's poll (409);
            // or another silo takes the bot over from the persisted offset, and its first poll confirms. A getUpdates
            // from here would only race, at Telegram, the long poll just cancelled, and cut it with a 409.
            return;
        }

        using var deadline = new CancellationTokenSource(_options.GracefulShutdownTimeout + TimeSpan.FromSeconds(1), time);
        try
        {
            await run.Poller.GetUpdatesAsync(offset, limit: 1, timeout: 0, deadline.Token);
            run.ConfirmedToTelegram = offset;
        }
        catch (Exception ex) when (ex is RequestException or OperationCanceledException)
        {
            // The persisted offset still covers it: the next run starts there and confirms it.
            LogConfirmFailed(logger, ReplicaUuid, ex.GetType().Name);
        }
    }

    private async Task RunAsync(BotRun run, TimeSpan initialDelay)
    {
        // Start from the grain's scheduler but never synchronously inside the caller's turn.
        await Task.Yield();
        var stopping = run.Stopping.Token;
        if (initialDelay > TimeSpan.Zero)
        {
            _nextRestartAt = time.GetUtcNow() + initialDelay;
            if (!await DelayAsync(initialDelay, stopping))
            {
                return;
            }
        }

        // Wait for this silo's next start slot (BOT_START_RATE) before the first Telegram call, i.e. the TLS handshake.
        if (pacer.NextDelay() is { } slot && slot > TimeSpan.Zero && !await DelayAsync(slot, stopping))
        {
            return;
        }

        var transientAttempts = 0;
        var firstStart = true;
        while (!stopping.IsCancellationRequested)
        {
            SetStatus(BotStatus.Restarting);
            ExpectActivityWithin(PollDeadline);
            try
            {
                var client = run.Client ??= telegram.Create(run.Definition.Token);
                var poller = run.Poller ??= telegram.CreatePoller(run.Definition.Token, AllowedUpdates);
                var me = await client.GetMe(stopping);
                await client.DeleteWebhook(cancellationToken: stopping);
                State.BotUsername = me.Username;
                run.Conversation = conversations.Create(run.Definition, client, me);
                run.RunningSince = time.GetUtcNow();
                _local.Progressed(run.RunningSince.Value + PollHealthyWithin);
                _nextRestartAt = null;
                transientAttempts = 0;
                SetStatus(BotStatus.Running);
                LogStarted(logger, ReplicaUuid, me.Username);
                if (firstStart && _options.FirstPollJitter > TimeSpan.Zero)
                {
                    await DelayAsync(_options.FirstPollJitter * Random.Shared.NextDouble(), stopping);
                }

                firstStart = false;
                await PollAsync(run, poller, stopping);
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (ApiRequestException ex) when (ex.ErrorCode == 401)
            {
                metrics.TelegramError("start", "401");
                await FailAsync("token rejected by Telegram");
                return;
            }
            catch (Exception ex) when (IsTransient(ex))
            {
                // Telegram or the network is down: wait and try again; not a crash of this bot.
                var delay = RecordTransient("start", ex, ++transientAttempts);
                LogStartRetry(logger, ReplicaUuid, Describe(ex), delay);
                _nextRestartAt = time.GetUtcNow() + delay;
                if (!await DelayAsync(delay, stopping))
                {
                    return;
                }
            }
            catch (Exception ex)
            {
                State.ConsecutiveFailures++;
                RecordError(Describe(ex));
                LogCrashed(logger, ReplicaUuid, State.ConsecutiveFailures, ex);
                if (State.ConsecutiveFailures >= _options.MaxFailedRestarts)
                {
                    await FailAsync($"gave up after {State.ConsecutiveFailures} consecutive failures; last: {Describe(ex)}");
                    return;
                }

                State.Restarts++;
                metrics.Restarted();
                var delay = Backoff.RestartDelay(State.ConsecutiveFailures, _options.HealthCheckInterval, _options.RestartBackoffCap);
                _nextRestartAt = time.GetUtcNow() + delay;
                _ = SaveStateAsync();
                if (!await DelayAsync(delay, stopping))
                {
                    return;
                }
            }
        }
    }

    /// <summary>Polls until stopped. Transient errors are retried here; anything else escapes as a crash of the loop.</summary>
    private async Task PollAsync(BotRun run, TelegramPoller poller, CancellationToken stopping)
    {
        var transientAttempts = 0;
        var fruitlessBusyPolls = 0;
        while (true)
        {
            stopping.ThrowIfCancellationRequested();
            var offset = run.ConfirmableOffset;
            var busy = run.InFlight.Count > 0;
            Update[] updates;
            try
            {
                // Cancelled by a stop or once past PollDeadline. No timer per poll: the silo's reporter cancels the
                // polls past their deadlines in one walk (LocalBots.CancelHungPolls). Awaited here rather than in a
                // helper: a pending poll's every async frame is kept alive, and copied by each GC, for up to 50 s.
                var call = run.NextPollCancellation();
                _local.PollStarted(call, time.GetUtcNow() + PollDeadline);
                try
                {
                    updates = await poller.GetUpdatesAsync(offset, limit: 100, timeout: busy ? 0 : _pollTimeoutSeconds, call.Token);
                }
                finally
                {
                    _local.PollEnded();
                }
            }
            catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
            {
                // Past its deadline (LocalBots.CancelHungPolls): a network fault like any other, retried with the same
                // back-off. Not a failure of the bot: a stalled Telegram or network would otherwise fail every bot.
                metrics.TelegramError("getUpdates", "timeout");
                RecordError($"getUpdates did not answer within {PollDeadline.TotalSeconds:0} s");
                var delay = Backoff.TransientRetryDelay(++transientAttempts, _options.TransientRetryDelay, Random.Shared.NextDouble());
                LogPollHung(logger, ReplicaUuid, PollDeadline, delay);
                await DelayAsync(delay, stopping); // a stop ends the loop at the top
                continue;
            }
            catch (ApiRequestException ex) when (ex.ErrorCode == 409)
            {
                metrics.TelegramError("getUpdates", "409");
                State.Conflicts++;
                RecordError(Describe(ex));
                var delay = Backoff.ConflictDelay(_options.ConflictDelay, Random.Shared.NextDouble());
                LogConflict(logger, ReplicaUuid, State.Conflicts, delay);
                _ = SaveStateAsync();
                await DelayAsync(delay, stopping); // a stop ends the loop at the top
                continue;
            }
            catch (Exception ex) when (IsTransient(ex))
            {
                var delay = RecordTransient("getUpdates", ex, ++transientAttempts);
                LogPollRetry(logger, ReplicaUuid, Describe(ex), delay);
                await DelayAsync(delay, stopping); // a stop ends the loop at the top
                continue;
            }

            transientAttempts = 0;
            var now = time.GetUtcNow();
            run.LastPollAt = now;
            _local.Progressed(now + PollHealthyWithin);
            run.ConfirmedToTelegram = offset;
            if (State.ConsecutiveFailures > 0 && run.RunningSince is { } since && now - since >= _options.StablePeriod)
            {
                State.ConsecutiveFailures = 0;
                _ = SaveStateAsync();
            }

            var newUpdates = false;
            foreach (var update in updates)
            {
                // Below the current confirmable offset means handled: a poll sent while a handler was still running
                // returns that handler's update again once it finished (and left HandledAboveOffset meanwhile).
                if (update.Id < run.ConfirmableOffset || run.InFlight.Contains(update.Id))
                {
                    continue;
                }

                if (State.HandledAboveOffset.Contains(update.Id))
                {
                    // Handled by an earlier run and delivered again: not answered twice, but the offset must still
                    // move past it once the updates below it are handled.
                    run.NextUpdateId = Math.Max(run.NextUpdateId, update.Id + 1);
                    continue;
                }

                run.NextUpdateId = Math.Max(run.NextUpdateId, update.Id + 1);
                Dispatch(run, update);
                newUpdates = true;
            }

            // Busy polls that only repeat the updates in flight back off (1, 2, 4 × BusyPollDelay), and wait the
            // longest while the silo's upstream slots are all taken: under load, when every bot has replies queued for
            // the upstream, a poll a second per bot was most of the silo's work (Backoff.BusyPollDelay).
            fruitlessBusyPolls = busy && !newUpdates ? Math.Min(fruitlessBusyPolls + 1, Backoff.MaxBusyPollDoublings) : 0;

            if (run.InFlight.Count > 0)
            {
                // While an update is in flight the offset stays below it, so Telegram would answer the next poll at
                // once with that update again: wait for a handler to finish (or a short while, to pick up other
                // chats' messages) before polling, instead of spinning or sending a poll that only repeats it.
                var progress = run.Progress.Task;
                var wait = Backoff.BusyPollDelay(_options.BusyPollDelay, fruitlessBusyPolls, upstream.Full);
                ExpectActivityWithin(wait);
                await Task.WhenAny(progress, Task.Delay(wait, time, stopping));
                if (progress.IsCompleted)
                {
                    run.Progress = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                }
            }

            if (State.Offset != run.ConfirmableOffset)
            {
                AdvanceOffset(run);
            }
        }
    }

    private void Dispatch(BotRun run, Update update)
    {
        // A redelivered update whose earlier attempt failed gets its next attempt now.
        run.Unhandled.Remove(update.Id);
        run.InFlight.Add(update.Id);
        var chatId = update.Message?.Chat?.Id ?? 0;
        var previous = run.ChatTails.TryGetValue(chatId, out var tail) ? tail.Task : Task.CompletedTask;
        var task = HandleInOrderAsync(run, previous, update, chatId, time.GetTimestamp());
        run.Handlers[update.Id] = task;
        run.ChatTails[chatId] = (update.Id, task);
    }

    private async Task HandleInOrderAsync(BotRun run, Task previous, Update update, long chatId, long receivedAt)
    {
        await Task.Yield();
        await previous;
        var handled = false;
        var gaveUp = false;
        try
        {
            // Claim the update with a state write before answering it. During a failover two activations of one bot
            // can briefly both receive it; the write of the stale one meets the newer version, and it stays silent.
            // (A write that fails for another reason, say Redis being down, does not stop the answer.)
            await SaveStateAsync();
            if (run.Conversation is { } conversation && !_stale)
            {
                await conversation.HandleAsync(update, run.Handling.Token);
                handled = true;
            }
        }
        catch (OperationCanceledException) when (run.Handling.IsCancellationRequested)
        {
            // Stopping: the update stays unconfirmed and is handled by the next run.
        }
        catch (Exception ex)
        {
            var attempts = run.Attempts[update.Id] = run.Attempts.GetValueOrDefault(update.Id) + 1;
            handled = gaveUp = attempts >= _options.MaxHandlingAttempts;
            LogHandlingFailed(logger, ReplicaUuid, update.Id, attempts, handled, ex);
        }
        finally
        {
            run.InFlight.Remove(update.Id);
            run.Handlers.Remove(update.Id);
            if (run.ChatTails.TryGetValue(chatId, out var tail) && tail.UpdateId == update.Id)
            {
                run.ChatTails.Remove(chatId);
            }

            if (handled)
            {
                metrics.UpdateHandled(gaveUp, time.GetElapsedTime(receivedAt));
                run.Attempts.Remove(update.Id);
                State.UpdatesHandled++;
                State.HandledAboveOffset.Add(update.Id);
            }
            else
            {
                // Neither answered nor skipped (failed, or cut short by a stop): neither the persisted offset nor the
                // final confirmation to Telegram may move past it, so Telegram delivers it again.
                run.Unhandled.Add(update.Id);
            }

            AdvanceOffset(run);
            run.Progress.TrySetResult();
        }
    }

    /// <summary>Moves the persisted offset to the lowest unhandled update and forgets handled ids below it.</summary>
    private void AdvanceOffset(BotRun run)
    {
        var offset = run.ConfirmableOffset;
        State.HandledAboveOffset.RemoveAll(id => id < offset);
        State.Offset = offset;
        _ = SaveStateAsync();
    }

    private async Task FailAsync(string reason)
    {
        State.FailedReason = reason;
        State.FailedSince = time.GetUtcNow();
        State.LastError = reason;
        State.LastErrorAt = State.FailedSince;
        SetStatus(BotStatus.Failed, State.FailedSince);
        LogFailed(logger, ReplicaUuid, reason);
        await SaveStateAsync();
    }

    private void RecordError(string error)
    {
        State.LastError = error;
        State.LastErrorAt = time.GetUtcNow();
    }

    /// <summary>
    /// Promises the loop's next sign of life (the end of the poll or wait it starts) within <paramref name="within"/>;
    /// a loop past it plus a health-check interval hangs, and the supervisor replaces it.
    /// </summary>
    private void ExpectActivityWithin(TimeSpan within) => _local.ExpectActivityBy(time.GetUtcNow() + within);

    /// <summary>Waits, returning false when the run was stopped meanwhile.</summary>
    private async Task<bool> DelayAsync(TimeSpan delay, CancellationToken stopping)
    {
        ExpectActivityWithin(delay);
        try
        {
            await Task.Delay(delay, time, stopping);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static bool IsTransient(Exception ex) => ex switch
    {
        ApiRequestException api => api.ErrorCode is 429 or >= 500,
        RequestException => true, // transport trouble, HTML from a proxy, HttpClient timeout
        HttpRequestException => true,
        _ => false,
    };

    /// <summary>
    /// Counts and records a transient Telegram error of <paramref name="method"/>; returns the wait before the next
    /// attempt: Telegram's <c>retry_after</c> for a 429, else the jittered exponential back-off.
    /// </summary>
    private TimeSpan RecordTransient(string method, Exception ex, int attempt)
    {
        metrics.TelegramError(method, ErrorCode(ex));
        RecordError(Describe(ex));
        return ex is ApiRequestException { ErrorCode: 429, Parameters.RetryAfter: { } retryAfter }
            ? TimeSpan.FromSeconds(retryAfter)
            : Backoff.TransientRetryDelay(attempt, _options.TransientRetryDelay, Random.Shared.NextDouble());
    }

    private static string ErrorCode(Exception ex) => ex is ApiRequestException api
        ? api.ErrorCode.ToString(System.Globalization.CultureInfo.InvariantCulture)
        : "transport";

    /// <summary>A short description of an error, without tokens or URLs.</summary>
    private static string Describe(Exception ex) => ex switch
    {
        ApiRequestException api => $"Telegram {api.ErrorCode}: {api.Message}",
        RequestException { HttpStatusCode: { } status } => $"Telegram transport error (HTTP {(int)status})",
        RequestException => "Telegram unreachable or timed out",
        _ => ex.GetType().Name,
    };

    /// <summary>
    /// Persists state (writes serialised and coalesced by a <see cref="StateWriteQueue"/>). A version conflict means
    /// another activation of this bot wrote after us: we are the stale copy, so we stop and never write again.
    /// </summary>
    private Task SaveStateAsync() => (_writes ??= new StateWriteQueue(WriteOnceAsync)).WriteAsync();

    private async Task WriteOnceAsync()
    {
        if (_stale)
        {
            // Another activation owns the state now; writing again would only fail again.
            return;
        }

        try
        {
            await state.WriteStateAsync();
        }
        catch (InconsistentStateException ex)
        {
            _stale = true;
            LogStaleActivation(logger, ReplicaUuid, ex);
            _run?.Stopping.Cancel();
            DeactivateOnIdle();
        }
        catch (Exception ex) when (_siloStopping)
        {
            LogWriteFailedAtShutdown(logger, ReplicaUuid, ex.GetType().Name);
        }
        catch (Exception ex)
        {
            LogWriteFailed(logger, ReplicaUuid, ex);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Bot {ReplicaUuid} ({ReplicaSlug}) applied")]
    private static partial void LogApplied(ILogger logger, string replicaUuid, string replicaSlug);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bot {ReplicaUuid} did not run its desired definition; adopting it")]
    private static partial void LogAdopting(ILogger logger, string replicaUuid);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Bot {ReplicaUuid} had no definition yet; the health sweep applied the desired one")]
    private static partial void LogAdoptingFirst(ILogger logger, string replicaUuid);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bot {ReplicaUuid}: loop died or hangs; replacing it ({Failures} consecutive failures)")]
    private static partial void LogReplacingLoop(ILogger logger, string replicaUuid, int failures);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bot {ReplicaUuid} removed")]
    private static partial void LogRemoved(ILogger logger, string replicaUuid);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Bot {ReplicaUuid} stopped: its silo shuts down and hands it over")]
    private static partial void LogHandedOver(ILogger logger, string replicaUuid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bot {ReplicaUuid} started as @{BotUsername}")]
    private static partial void LogStarted(ILogger logger, string replicaUuid, string? botUsername);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Bot {ReplicaUuid} deactivating ({Reason})")]
    private static partial void LogDeactivating(ILogger logger, string replicaUuid, DeactivationReasonCode reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bot {ReplicaUuid} could not start: {Error}; retrying in {Delay}")]
    private static partial void LogStartRetry(ILogger logger, string replicaUuid, string error, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bot {ReplicaUuid} poll failed: {Error}; retrying in {Delay}")]
    private static partial void LogPollRetry(ILogger logger, string replicaUuid, string error, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bot {ReplicaUuid} poll did not answer within {Deadline}; retrying in {Delay}")]
    private static partial void LogPollHung(ILogger logger, string replicaUuid, TimeSpan deadline, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bot {ReplicaUuid}: another poller holds the token (409, {Conflicts} so far); backing off {Delay}")]
    private static partial void LogConflict(ILogger logger, string replicaUuid, long conflicts, TimeSpan delay);

    [LoggerMessage(Level = LogLevel.Error, Message = "Bot {ReplicaUuid} loop crashed ({Failures} consecutive failures)")]
    private static partial void LogCrashed(ILogger logger, string replicaUuid, int failures, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Bot {ReplicaUuid} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string replicaUuid, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Bot {ReplicaUuid}: handling update {UpdateId} failed (attempt {Attempts}, skipped: {Skipped})")]
    private static partial void LogHandlingFailed(ILogger logger, string replicaUuid, int updateId, int attempts, bool skipped, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Bot {ReplicaUuid}: final offset confirmation failed ({Error})")]
    private static partial void LogConfirmFailed(ILogger logger, string replicaUuid, string error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bot {ReplicaUuid}: another activation wrote its state; this one is stale and stops")]
    private static partial void LogStaleActivation(ILogger logger, string replicaUuid, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Bot {ReplicaUuid}: persisting state failed")]
    private static partial void LogWriteFailed(ILogger logger, string replicaUuid, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Bot {ReplicaUuid}: state not persisted while the silo shuts down ({Error})")]
    private static partial void LogWriteFailedAtShutdown(ILogger logger, string replicaUuid, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Bot {ReplicaUuid}: unexpected error while stopping")]
    private static partial void LogUnexpected(ILogger logger, string replicaUuid, Exception exception);
}

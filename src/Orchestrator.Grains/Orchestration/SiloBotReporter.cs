using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Abstractions;
using Orchestrator.Grains.Bots;

namespace Orchestrator.Grains.Orchestration;

/// <summary>
/// This silo's half of supervision. Once the silo is active, and then every health-check interval, it cancels the
/// long polls of its bots that outlived their deadlines (<see cref="LocalBots.CancelHungPolls"/>), and it reports to the
/// <see cref="OrchestratorGrain"/> which of the bots activated here are healthy (checked in memory, from what each
/// activation publishes in <see cref="LocalBots"/>), so the orchestrator's sweep calls only the rest instead of every
/// bot. The same call wakes the orchestrator: at cluster start, and on a survivor within one interval after its silo
/// died. When membership declares another silo gone, it reports at once, so the orchestrator sweeps the dead silo's
/// bots without waiting for its next interval.
/// </summary>
public sealed partial class SiloBotReporter(
    IGrainFactory grains,
    ILocalSiloDetails silo,
    IClusterMembershipService membership,
    LocalBots localBots,
    IOptions<BotOptions> options,
    TimeProvider time,
    ILogger<SiloBotReporter> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    /// <summary>The wait before retrying a failed report.</summary>
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;
    private Task? _watch;

    /// <summary>Completed (and replaced) when a silo that was active leaves the cluster.</summary>
    private TaskCompletionSource _siloLeft = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(SiloBotReporter), ServiceLifecycleStage.Active, OnStartAsync, OnStopAsync);

    /// <summary>The bots activated here that need nothing from the supervisor, with their definitions' fingerprints and statuses.</summary>
    private HostedBotsReport BuildReport()
    {
        var now = time.GetUtcNow();
        var grace = options.Value.HealthCheckInterval;

        // Arrays sized for every bot and trimmed once, if at all: at steady state every bot is reported.
        var capacity = localBots.Count;
        var ids = new string[capacity];
        var fingerprints = new long[capacity];
        var statuses = new BotStatus[capacity];
        var count = 0;
        foreach (var bot in localBots.All)
        {
            if (count < capacity && bot.Fingerprint is not 0 and var fingerprint && !bot.NeedsCheck(now, grace))
            {
                ids[count] = bot.ReplicaUuid;
                fingerprints[count] = fingerprint;
                statuses[count] = bot.ObservedStatus(now);
                count++;
            }
        }

        if (count < capacity)
        {
            Array.Resize(ref ids, count);
            Array.Resize(ref fingerprints, count);
            Array.Resize(ref statuses, count);
        }

        return new HostedBotsReport(silo.SiloAddress, ids, fingerprints, statuses);
    }

    private Task OnStartAsync(CancellationToken cancellationToken)
    {
        // Not awaited: the silo's start must not wait for the orchestrator (whose silo may still be joining).
        _loop = Task.Run(() => ReportLoopAsync(_stopping.Token), CancellationToken.None);
        _watch = Task.Run(() => WatchMembershipAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task OnStopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        foreach (var task in new[] { _loop, _watch })
        {
            if (task is not null)
            {
                await task.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task WatchMembershipAsync(CancellationToken stopping)
    {
        var active = new HashSet<SiloAddress>();
        try
        {
            await foreach (var snapshot in membership.MembershipUpdates.WithCancellation(stopping).ConfigureAwait(false))
            {
                var now = snapshot.Members.Values.Where(m => m.Status == SiloStatus.Active).Select(m => m.SiloAddress).ToHashSet();
                if (!active.IsSubsetOf(now))
                {
                    Interlocked.Exchange(ref _siloLeft, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
                }

                active = now;
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
        }
    }

    /// <summary>Waits <paramref name="wait"/>, or less if a silo leaves the cluster meanwhile.</summary>
    private async Task WaitForNextReportAsync(TimeSpan wait, CancellationToken stopping)
    {
        var siloLeft = Volatile.Read(ref _siloLeft).Task;
        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(stopping);
        await Task.WhenAny(Task.Delay(wait, time, waiting.Token), siloLeft).ConfigureAwait(false);
        await waiting.CancelAsync().ConfigureAwait(false);
        stopping.ThrowIfCancellationRequested();
    }

    private async Task ReportLoopAsync(CancellationToken stopping)
    {
        var orchestrator = grains.GetGrain<IOrchestratorGrain>(GrainKeys.Orchestrator);
        var interval = options.Value.HealthCheckInterval;
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                localBots.CancelHungPolls(time.GetUtcNow());
                await orchestrator.ReportHostedBotsAsync(BuildReport()).WaitAsync(interval, time, stopping).ConfigureAwait(false);
                failures = 0;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A silo joining or leaving the cluster (say the orchestrator's, not yet declared dead): retry soon, so
                // the orchestrator is back on a survivor about as soon as membership allows, not an interval later.
                if (++failures == 1)
                {
                    LogReportFailed(logger, ex);
                }
            }

            try
            {
                await WaitForNextReportAsync(failures > 0 && interval > RetryDelay ? RetryDelay : interval, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not report this silo's bots to the orchestrator; retrying")]
    private static partial void LogReportFailed(ILogger logger, Exception exception);
}

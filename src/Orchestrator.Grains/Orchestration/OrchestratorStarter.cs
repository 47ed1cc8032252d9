using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Abstractions;

namespace Orchestrator.Grains.Orchestration;

/// <summary>
/// Wakes the <see cref="OrchestratorGrain"/> from every silo once the silo is active, so the persisted desired set
/// runs and the start-up reload happens without waiting for a REST call; then keeps poking it every
/// <see cref="OrchestratorOptions.WakeInterval"/>, so after its silo died it comes back on a survivor within seconds
/// instead of at the next one-minute reminder tick.
/// </summary>
public sealed partial class OrchestratorStarter(
    IGrainFactory grains,
    IOptions<OrchestratorOptions> options,
    TimeProvider time,
    ILogger<OrchestratorStarter> logger) : ILifecycleParticipant<ISiloLifecycle>
{
    private readonly CancellationTokenSource _stopping = new();
    private Task? _loop;

    /// <inheritdoc />
    public void Participate(ISiloLifecycle lifecycle) =>
        lifecycle.Subscribe(nameof(OrchestratorStarter), ServiceLifecycleStage.Active, OnStartAsync, OnStopAsync);

    private Task OnStartAsync(CancellationToken cancellationToken)
    {
        // Not awaited: the silo's start must not wait for the orchestrator (whose silo may still be joining).
        _loop = Task.Run(() => WakeLoopAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    private async Task OnStopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        if (_loop is { } loop)
        {
            await loop.WaitAsync(cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }

    private async Task WakeLoopAsync(CancellationToken stopping)
    {
        var orchestrator = grains.GetGrain<IOrchestratorGrain>(GrainKeys.Orchestrator);
        var failures = 0;
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await orchestrator.EnsureStartedAsync().WaitAsync(options.Value.WakeInterval, time, stopping).ConfigureAwait(false);
                failures = 0;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A silo joining or leaving the cluster: try again at the next tick.
                if (++failures == 1)
                {
                    LogWakeFailed(logger, ex);
                }
            }

            try
            {
                await Task.Delay(options.Value.WakeInterval, time, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not wake the orchestrator; retrying")]
    private static partial void LogWakeFailed(ILogger logger, Exception exception);
}

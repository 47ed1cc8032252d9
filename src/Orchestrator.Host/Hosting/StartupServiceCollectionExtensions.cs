using Microsoft.Extensions.Options;
using Orchestrator.Abstractions;
using Orchestrator.Host.Options;

namespace Orchestrator.Host.Hosting;

/// <summary>What runs once the silo and the API are up.</summary>
public static class StartupServiceCollectionExtensions
{
    /// <summary>
    /// Wakes the <see cref="IOrchestratorGrain"/> (which brings every desired bot up) once the silo has started, and
    /// logs a generated auth token once.
    /// </summary>
    public static IServiceCollection AddOrchestratorStartup(this IServiceCollection services)
    {
        services.AddHostedService<OrchestratorStartupService>();
        return services;
    }
}

/// <summary>Runs after every hosted service (the silo included) has started.</summary>
internal sealed partial class OrchestratorStartupService(
    IGrainFactory grains,
    IOptions<ServiceSettings> options,
    IHostApplicationLifetime lifetime,
    ILogger<OrchestratorStartupService> logger) : IHostedLifecycleService
{
    private const int MaxAttempts = 10;
    private Task _wake = Task.CompletedTask;

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.AuthTokenGenerated)
        {
            // The one sanctioned exception to "never log a secret": without it the operator cannot call /bots.
            LogGeneratedAuthToken(logger, settings.AuthToken!);
        }

        _wake = WakeOrchestratorAsync(lifetime.ApplicationStopping);
        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => _wake.WaitAsync(cancellationToken);

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    private async Task WakeOrchestratorAsync(CancellationToken stopping)
    {
        for (var attempt = 1; !stopping.IsCancellationRequested; attempt++)
        {
            try
            {
                await grains.GetGrain<IOrchestratorGrain>(GrainKeys.Orchestrator).EnsureStartedAsync().WaitAsync(stopping);
                LogOrchestratorStarted(logger);
                return;
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (attempt < MaxAttempts)
            {
                LogWakeRetry(logger, attempt, ex.GetType().Name);
            }
            catch (Exception ex)
            {
                LogWakeFailed(logger, attempt, ex);
                return;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt), stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "ORCHESTRATOR_AUTH_TOKEN is not set; generated a token for this run (send it as 'Authorization: Bearer <token>'): {AuthToken}")]
    private static partial void LogGeneratedAuthToken(ILogger logger, string authToken);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Orchestrator grain started")]
    private static partial void LogOrchestratorStarted(ILogger logger);

    [LoggerMessage(Level = LogLevel.Information, Message = "Orchestrator grain not reachable yet (attempt {Attempt}: {Error}); retrying")]
    private static partial void LogWakeRetry(ILogger logger, int attempt, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Orchestrator grain could not be started after {Attempts} attempts; the next API call or reminder starts it")]
    private static partial void LogWakeFailed(ILogger logger, int attempts, Exception exception);
}

using Microsoft.Extensions.Options;
using Orchestrator.Host.Options;

namespace Orchestrator.Host.Hosting;

/// <summary>What runs once the silo and the API are up.</summary>
public static class StartupServiceCollectionExtensions
{
    /// <summary>
    /// Logs a generated auth token once, when the API is up. (Waking the OrchestratorGrain is the grains' own
    /// <c>OrchestratorStarter</c>, which every silo runs.)
    /// </summary>
    public static IServiceCollection AddOrchestratorStartup(this IServiceCollection services)
    {
        services.AddHostedService<GeneratedTokenAnnouncer>();
        return services;
    }
}

/// <summary>Logs the generated auth token once the API listens.</summary>
internal sealed partial class GeneratedTokenAnnouncer(
    IOptions<ServiceSettings> options,
    ILogger<GeneratedTokenAnnouncer> logger) : IHostedLifecycleService
{
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

        return Task.CompletedTask;
    }

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "ORCHESTRATOR_AUTH_TOKEN is not set; generated a token for this run (send it as 'Authorization: Bearer <token>'): {AuthToken}")]
    private static partial void LogGeneratedAuthToken(ILogger logger, string authToken);
}

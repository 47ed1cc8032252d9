using Microsoft.Extensions.Options;
using Orchestrator.Host.Options;

namespace Orchestrator.Host.Hosting;

/// <summary>What runs once the silo and the API are up.</summary>
public static class StartupServiceCollectionExtensions
{
    /// <summary>
    /// Logs a generated auth token once, when the API is up, and warns about test-only settings. (Waking the
    /// OrchestratorGrain is the grains' own <c>SiloBotReporter</c>, which every silo runs.)
    /// </summary>
    public static IServiceCollection AddOrchestratorStartup(this IServiceCollection services)
    {
        services.AddHostedService<GeneratedTokenAnnouncer>();
        services.AddHostedService<TestSettingsWarner>();
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

/// <summary>Warns at start about settings meant for tests and benchmarks only.</summary>
internal sealed partial class TestSettingsWarner(IOptions<ServiceSettings> options, ILogger<TestSettingsWarner> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        if (settings.TelegramCaCertFile is { } file)
        {
            LogTrustedCertificate(logger, EnvVars.TelegramCaCertFile, file);
        }

        if (settings.DiagnosticsEndpoints)
        {
            LogDiagnosticsEndpoints(logger, EnvVars.DiagnosticsEndpoints);
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Variable} is set: the Telegram client also trusts the certificate in {File}. Test only: never set it in production")]
    private static partial void LogTrustedCertificate(ILogger logger, string variable, string file);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Variable} is on: /_diagnostics (runtime figures, forced GC, reload) is mapped. For benchmarks; keep it off in production")]
    private static partial void LogDiagnosticsEndpoints(ILogger logger, string variable);
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orchestrator.Abstractions;
using Orchestrator.Fakes.Sensay;
using Orchestrator.Fakes.Telegram;
using Orchestrator.Grains;
using Orchestrator.Grains.Bots;
using Orchestrator.Grains.Orchestration;
using Orchestrator.Sensay;
using Orchestrator.Telegram;
using Orleans.TestingHost;

namespace Orchestrator.Tests.Infrastructure;

/// <summary>
/// An in-process Orleans cluster running the real grains, with the real Telegram.Bot client talking to the Telegram
/// emulator and the real Sensay client talking to the fake Sensay, both over loopback. Subclasses choose what differs
/// (the upstream source, cadences, log capture); the desired set is cluster-wide, so each kind gets its own cluster.
/// </summary>
public abstract class BotClusterFixture : IAsyncLifetime
{
    /// <summary>Long-poll timeout of the bots under test: short, so stop and health paths are quick.</summary>
    public const int PollTimeoutSeconds = 2;

    /// <summary>The bots' <c>HEALTH_CHECK_INTERVAL_MS</c>, also where restart back-off starts.</summary>
    public static readonly TimeSpan HealthCheckInterval = TimeSpan.FromMilliseconds(500);

    public TelegramEmulator Telegram { get; private set; } = null!;

    public FakeSensayApi Sensay { get; private set; } = null!;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>The silos' log lines, when <see cref="ConfigureLogCapture"/> registers the provider.</summary>
    public CapturingLoggerProvider Logs { get; } = new();

    public IGrainFactory Grains => Cluster.Client;

    public IOrchestratorGrain Orchestrator => Grains.GetGrain<IOrchestratorGrain>(GrainKeys.Orchestrator);

    /// <summary>The Sensay API key the fake expects; distinctive, so a leak into a log line is found.</summary>
    protected abstract string ApiKey { get; }

    /// <summary>Silos in the cluster.</summary>
    protected virtual short SiloCount => 2;

    /// <summary>False: <c>SENSAY_API_URL</c> unset (the Sensay client has no base URL).</summary>
    protected virtual bool UpstreamConfigured => true;

    /// <summary>When set, the fake Sensay also serves the licence service, and the silos check licences with this secret.</summary>
    protected virtual string? LicenseSecretKey => null;

    /// <summary>Runs after the fakes started and before the cluster deploys (e.g. to seed Sensay's replicas).</summary>
    protected virtual void BeforeDeploy()
    {
    }

    /// <summary>Extra silo services (e.g. a test upstream source); runs after <c>AddBotRuntime</c>.</summary>
    protected virtual void ConfigureServices(IServiceCollection services)
    {
    }

    /// <summary>Which log lines <see cref="Logs"/> records; by default none.</summary>
    protected virtual void ConfigureLogCapture(LoggerFilterOptions filters) => filters.AddFilter<CapturingLoggerProvider>(null, LogLevel.None);

    /// <summary>Bot supervision timing, short so retries and health paths take milliseconds.</summary>
    protected virtual void Configure(BotOptions options)
    {
        options.HealthCheckInterval = HealthCheckInterval;
        options.HealthCheckTimeout = TimeSpan.FromSeconds(1);
        options.GracefulShutdownTimeout = TimeSpan.FromSeconds(1);
        options.BusyPollDelay = TimeSpan.FromMilliseconds(100);
        options.TransientRetryDelay = TimeSpan.FromMilliseconds(50);
        options.ConflictDelay = TimeSpan.FromMilliseconds(100);
        options.PollGrace = TimeSpan.FromMilliseconds(500);
    }

    /// <summary>The Sensay client beyond its URL and key.</summary>
    protected virtual void Configure(SensayOptions options) => options.RetryDelay = TimeSpan.FromMilliseconds(10);

    /// <summary>The orchestrator's cadences; by default long, so reloads and status prints run when a test asks.</summary>
    protected virtual void Configure(OrchestratorOptions options)
    {
        options.ReloadInterval = TimeSpan.FromHours(1);
        options.PrintStatusInterval = TimeSpan.FromHours(1);
    }

    public IBotGrain Bot(string replicaUuid) => Grains.GetGrain<IBotGrain>(replicaUuid);

    /// <summary>Waits until the bot reports <paramref name="status"/> (its status is only observable by asking).</summary>
    public Task<BotStatusReport> WaitForStatusAsync(string replicaUuid, BotStatus status, TimeSpan timeout) =>
        WaitForStatusAsync(replicaUuid, r => r.Status == status, $"be {status}", timeout);

    /// <summary>Waits until the bot's status report satisfies <paramref name="condition"/>, described as <paramref name="what"/>.</summary>
    public async Task<BotStatusReport> WaitForStatusAsync(string replicaUuid, Func<BotStatusReport, bool> condition, string what, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        BotStatusReport? last = null;
        while (!deadline.IsCancellationRequested)
        {
            last = await Bot(replicaUuid).GetStatusAsync();
            if (last is not null && condition(last))
            {
                return last;
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(50), deadline.Token);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }

        throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0} s waiting for bot {replicaUuid} to {what}; last status: {last?.Status.ToString() ?? "undefined"}, last error: {last?.LastError ?? "-"}");
    }

    public async ValueTask InitializeAsync()
    {
        Telegram = await TelegramEmulator.StartAsync();
        Sensay = await FakeSensayApi.StartAsync(new FakeSensayOptions { ApiKey = ApiKey, LicenseSecretKey = LicenseSecretKey });
        var builder = new InProcessTestClusterBuilder(SiloCount);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(StorageNames.Bots);
            silo.AddMemoryGrainStorage(StorageNames.Orchestrator);
            silo.UseInMemoryReminderService();
            silo.Services.AddBotRuntime();
            ConfigureServices(silo.Services);
            silo.Services.AddSingleton<ILoggerProvider>(Logs);
            silo.Services.Configure<LoggerFilterOptions>(ConfigureLogCapture);
            silo.Services.Configure<TelegramClientOptions>(o =>
            {
                o.BaseUrl = Telegram.BaseUrl.ToString();
                o.PollTimeoutSeconds = PollTimeoutSeconds;
            });
            silo.Services.Configure<SensayOptions>(o =>
            {
                o.BaseUrl = UpstreamConfigured ? Sensay.BaseUrl : null;
                o.ApiKey = UpstreamConfigured ? ApiKey : null;
                o.LicenseBaseUrl = LicenseSecretKey is null ? null : Sensay.BaseUrl;
                o.LicenseSecretKey = LicenseSecretKey;
                Configure(o);
            });
            silo.Services.Configure<BotOptions>(Configure);
            silo.Services.Configure<OrchestratorOptions>(Configure);
        });
        BeforeDeploy();
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await Cluster.DisposeAsync();
        await Telegram.DisposeAsync();
        await Sensay.DisposeAsync();
        Logs.Dispose();
    }
}

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

namespace Orchestrator.Tests.Reconciliation;

/// <summary>
/// An in-process cluster whose desired set comes from the fake Sensay through the real
/// <see cref="SensayBotDefinitionSource"/> and Sensay client, with the real Telegram.Bot client polling the emulator.
/// The desired set is cluster-wide, so every kind of test that needs other cadences gets its own subclass (and cluster).
/// </summary>
public abstract class ReconciliationClusterFixture : IAsyncLifetime
{
    /// <summary>The Sensay API key the fake expects; distinctive, so a leak into a log line is found.</summary>
    public const string SensayApiKey = "sensay-key-RECON-7f3a9c51d2e84b06";

    /// <summary>Long-poll timeout of the bots under test: short, so stop and health paths are quick.</summary>
    public const int PollTimeoutSeconds = 2;

    private static int s_nextBotId = 500_000;

    public TelegramEmulator Telegram { get; private set; } = null!;

    public FakeSensayApi Sensay { get; private set; } = null!;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    /// <summary>Every log entry of the silos (all levels), when <see cref="CaptureLogs"/> is set.</summary>
    public CapturingLoggerProvider Logs { get; } = new();

    public IGrainFactory Grains => Cluster.Client;

    public IOrchestratorGrain Orchestrator => Grains.GetGrain<IOrchestratorGrain>(GrainKeys.Orchestrator);

    /// <summary>Silos in the cluster.</summary>
    protected virtual short SiloCount => 2;

    /// <summary>False: <c>SENSAY_API_URL</c> unset, so the real source is not configured.</summary>
    protected virtual bool UpstreamConfigured => true;

    /// <summary>Record every log line of the silos in <see cref="Logs"/>.</summary>
    protected virtual bool CaptureLogs => false;

    /// <summary>Runs after the fakes started and before the cluster deploys (e.g. to seed Sensay's replicas).</summary>
    protected virtual void BeforeDeploy()
    {
    }

    /// <summary>The orchestrator's cadences; by default long, so reloads run when a test asks for one.</summary>
    protected virtual void Configure(OrchestratorOptions options)
    {
        options.ReloadInterval = TimeSpan.FromHours(1);
        options.PrintStatusInterval = TimeSpan.FromHours(1);
        // Short, so the hanging-page test fails in seconds, yet far above what a healthy load of a few pages takes.
        options.ReloadTimeout = TimeSpan.FromSeconds(3);
    }

    /// <summary>A replica of this service with a fresh uuid, slug, owner and a well-formed token.</summary>
    public static FakeReplica NewReplica(string? serviceName = FakeReplica.DefaultServiceName, bool withToken = true, bool withIntegration = true)
    {
        var id = Interlocked.Increment(ref s_nextBotId);
        return new FakeReplica(
            $"replica-{id}-{Guid.NewGuid():N}",
            $"slug-{id}",
            withToken ? NewToken() : null,
            $"owner-{id}",
            serviceName,
            withIntegration);
    }

    /// <summary>A fresh, well-formed bot token.</summary>
    public static string NewToken()
    {
        var id = Interlocked.Increment(ref s_nextBotId);
        return $"{id}:RECON{Guid.NewGuid():N}";
    }

    /// <summary>A fresh bot definition for the REST API, unknown to the fake Sensay.</summary>
    public static BotDefinition NewDefinition()
    {
        var replica = NewReplica();
        return new BotDefinition(replica.Uuid, replica.Slug, replica.OwnerUuid, replica.TelegramToken!);
    }

    public IBotGrain Bot(string replicaUuid) => Grains.GetGrain<IBotGrain>(replicaUuid);

    /// <summary>Waits until the bot reports <paramref name="status"/> (its status is only observable by asking).</summary>
    public async Task<BotStatusReport> WaitForStatusAsync(string replicaUuid, BotStatus status, TimeSpan timeout)
    {
        using var deadline = new CancellationTokenSource(timeout);
        BotStatusReport? last = null;
        while (!deadline.IsCancellationRequested)
        {
            last = await Bot(replicaUuid).GetStatusAsync();
            if (last?.Status == status)
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

        throw new TimeoutException($"Timed out after {timeout.TotalSeconds:0} s waiting for bot {replicaUuid} to be {status}; last status: {last?.Status.ToString() ?? "undefined"}, last error: {last?.LastError ?? "-"}");
    }

    public async ValueTask InitializeAsync()
    {
        Telegram = await TelegramEmulator.StartAsync();
        Sensay = await FakeSensayApi.StartAsync(new FakeSensayOptions { ApiKey = SensayApiKey });
        var builder = new InProcessTestClusterBuilder(SiloCount);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(StorageNames.Bots);
            silo.AddMemoryGrainStorage(StorageNames.Orchestrator);
            silo.UseInMemoryReminderService();
            // The real SensayBotDefinitionSource: IBotDefinitionSource is deliberately not overridden.
            silo.Services.AddBotRuntime();
            if (CaptureLogs)
            {
                silo.Services.AddSingleton<ILoggerProvider>(Logs);
                silo.Services.Configure<LoggerFilterOptions>(o => o.AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace));
            }

            silo.Services.Configure<TelegramClientOptions>(o =>
            {
                o.BaseUrl = Telegram.BaseUrl.ToString();
                o.PollTimeoutSeconds = PollTimeoutSeconds;
            });
            silo.Services.Configure<SensayOptions>(o =>
            {
                o.BaseUrl = UpstreamConfigured ? Sensay.BaseUrl : null;
                o.ApiKey = UpstreamConfigured ? SensayApiKey : null;
                o.RetryDelay = TimeSpan.FromMilliseconds(10);
            });
            silo.Services.Configure<BotOptions>(o =>
            {
                o.HealthCheckInterval = TimeSpan.FromSeconds(1);
                o.HealthCheckTimeout = TimeSpan.FromSeconds(1);
                o.GracefulShutdownTimeout = TimeSpan.FromSeconds(1);
                o.BusyPollDelay = TimeSpan.FromMilliseconds(100);
            });
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
    }
}

/// <summary>
/// The shared reconciliation cluster: reloads run only when a test calls <see cref="IOrchestratorGrain.ReloadAsync"/>.
/// Tests start from an empty desired set (<see cref="ResetAsync"/>) and use fresh replicas and tokens.
/// </summary>
public sealed class ReconciliationFixture : ReconciliationClusterFixture
{
    /// <summary>
    /// Empties the fake's replica list and reloads until the desired set is empty (a second reload confirms a mass
    /// removal), so every test starts from nothing and no bot of an earlier test is still polling.
    /// </summary>
    public async Task ResetAsync()
    {
        Sensay.ClearFaults();
        Sensay.SetReplicas([]);
        for (var attempt = 0; attempt < 3 && (await Orchestrator.GetBotIdsAsync()).Length > 0; attempt++)
        {
            var report = await Orchestrator.ReloadAsync();
            Assert.NotEqual(ReloadOutcome.Failed, report.Outcome);
        }

        Assert.Empty(await Orchestrator.GetBotIdsAsync());
    }
}

[CollectionDefinition(Name)]
public sealed class ReconciliationCollection : ICollectionFixture<ReconciliationFixture>
{
    public const string Name = "reconciliation";
}

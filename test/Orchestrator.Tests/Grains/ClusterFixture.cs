using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Abstractions;
using Orchestrator.Fakes.Sensay;
using Orchestrator.Fakes.Telegram;
using Orchestrator.Grains;
using Orchestrator.Grains.Bots;
using Orchestrator.Grains.Orchestration;
using Orchestrator.Sensay;
using Orchestrator.Telegram;
using Microsoft.Extensions.Logging;
using Orchestrator.Tests.Reconciliation;
using Orleans.TestingHost;

namespace Orchestrator.Tests.Grains;

/// <summary>
/// A two-silo in-process Orleans cluster running the real grains, with the real Telegram.Bot client talking to the
/// Telegram emulator and the real Sensay client talking to the fake Sensay, both over loopback. Shared by a collection;
/// every test uses fresh tokens and replicaUUIDs.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    /// <summary>The Sensay API key the fake expects.</summary>
    public const string SensayApiKey = "test-sensay-key";

    /// <summary>Long-poll timeout of the bots under test: short, so stop and health paths are quick.</summary>
    public const int PollTimeoutSeconds = 2;

    private static int s_nextBotId = 100_000;

    public TelegramEmulator Telegram { get; private set; } = null!;

    public FakeSensayApi Sensay { get; private set; } = null!;

    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IGrainFactory Grains => Cluster.Client;

    public IOrchestratorGrain Orchestrator => Grains.GetGrain<IOrchestratorGrain>(GrainKeys.Orchestrator);

    /// <summary>Everything the silos logged at Debug and above (our code and HTTP clients at Trace).</summary>
    public CapturingLoggerProvider Logs { get; } = new();

    /// <summary>Every bot token this fixture handed out, to prove none of them reaches a log.</summary>
    public static IReadOnlyCollection<string> IssuedTokens => s_issuedTokens;

    private static readonly System.Collections.Concurrent.ConcurrentBag<string> s_issuedTokens = [];

    /// <summary>
    /// A fresh bot definition with a unique, well-formed token. Its replica exists in the fake Sensay (so completions
    /// work) without a Telegram integration (so a reload does not pick it up).
    /// </summary>
    public BotDefinition NewBot(string? slug = null)
    {
        var bot = NewDefinition(slug);
        Sensay.AddReplica(new FakeReplica(bot.ReplicaUuid, bot.ReplicaSlug, TelegramToken: null, bot.OwnerUuid, HasTelegramIntegration: false));
        return bot;
    }

    /// <summary>A fresh bot definition, unknown to the fake Sensay.</summary>
    public static BotDefinition NewDefinition(string? slug = null)
    {
        var id = Interlocked.Increment(ref s_nextBotId);
        var token = $"{id}:SECRET{Guid.NewGuid():N}";
        s_issuedTokens.Add(token);
        return new BotDefinition($"replica-{id}-{Guid.NewGuid():N}", slug ?? $"slug-{id}", $"owner-{id}", token);
    }

    public async ValueTask InitializeAsync()
    {
        Telegram = await TelegramEmulator.StartAsync();
        Sensay = await FakeSensayApi.StartAsync(new FakeSensayOptions { ApiKey = SensayApiKey });
        var builder = new InProcessTestClusterBuilder(2);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(StorageNames.Bots);
            silo.AddMemoryGrainStorage(StorageNames.Orchestrator);
            silo.UseInMemoryReminderService();
            silo.Services.AddBotRuntime();
            // These tests define bots directly; reconciliation with Sensay has its own fixture.
            silo.Services.AddSingleton<IBotDefinitionSource>(new NoUpstream());
            silo.Services.AddSingleton<ILoggerProvider>(Logs);
            silo.Services.Configure<LoggerFilterOptions>(o =>
            {
                o.AddFilter<CapturingLoggerProvider>(null, LogLevel.Debug);
                o.AddFilter<CapturingLoggerProvider>("Orchestrator", LogLevel.Trace);
                o.AddFilter<CapturingLoggerProvider>("System.Net.Http", LogLevel.Trace);
            });
            silo.Services.Configure<TelegramClientOptions>(o =>
            {
                o.BaseUrl = Telegram.BaseUrl.ToString();
                o.PollTimeoutSeconds = PollTimeoutSeconds;
            });
            silo.Services.Configure<SensayOptions>(o =>
            {
                o.BaseUrl = Sensay.BaseUrl;
                o.ApiKey = SensayApiKey;
                o.RetryDelay = TimeSpan.FromMilliseconds(10);
                // Short enough for the timeout test, long enough for the tests that hold a completion a few seconds.
                o.RequestTimeout = TimeSpan.FromSeconds(10);
            });
            silo.Services.Configure<BotOptions>(o =>
            {
                o.HealthCheckInterval = TimeSpan.FromMilliseconds(500);
                o.HealthCheckTimeout = TimeSpan.FromSeconds(1);
                o.GracefulShutdownTimeout = TimeSpan.FromSeconds(1);
                o.BusyPollDelay = TimeSpan.FromMilliseconds(100);
                o.TransientRetryDelay = TimeSpan.FromMilliseconds(50);
                o.ConflictDelay = TimeSpan.FromMilliseconds(100);
                o.PollGrace = TimeSpan.FromMilliseconds(500);
            });
            silo.Services.Configure<OrchestratorOptions>(o =>
            {
                // Reloads run when a test asks for one.
                o.ReloadInterval = TimeSpan.FromHours(1);
                o.PrintStatusInterval = TimeSpan.FromHours(1);
            });
        });
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

/// <summary>No upstream: the grains' callers alone define the bots.</summary>
internal sealed class NoUpstream : IBotDefinitionSource
{
    public bool IsConfigured => false;

    public Task<IReadOnlyList<BotDefinition>> LoadAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}

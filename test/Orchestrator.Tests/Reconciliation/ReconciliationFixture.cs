using Orchestrator.Abstractions;
using Orchestrator.Fakes.Sensay;
using Orchestrator.Grains.Bots;
using Orchestrator.Grains.Orchestration;
using Orchestrator.Tests.Infrastructure;

namespace Orchestrator.Tests.Reconciliation;

/// <summary>
/// An in-process cluster whose desired set comes from the fake Sensay through the real
/// <see cref="SensayBotDefinitionSource"/> and Sensay client, with the real Telegram.Bot client polling the emulator.
/// The desired set is cluster-wide, so every kind of test that needs other cadences gets its own subclass (and cluster).
/// </summary>
public abstract class ReconciliationClusterFixture : BotClusterFixture
{
    /// <summary>The Sensay API key the fake expects; distinctive, so a leak into a log line is found.</summary>
    public const string SensayApiKey = "sensay-key-RECON-7f3a9c51d2e84b06";

    private static int s_nextBotId = 500_000;

    /// <inheritdoc />
    protected override string ApiKey => SensayApiKey;

    /// <summary>The real source and Sensay's cadence; only the reload timeout is short.</summary>
    protected override void Configure(OrchestratorOptions options)
    {
        base.Configure(options);
        // Short, so the hanging-page test fails in seconds, yet far above what a healthy load of a few pages takes.
        options.ReloadTimeout = TimeSpan.FromSeconds(3);
    }

    /// <summary>Supervision at a one-second cadence, like the cadences these tests watch.</summary>
    protected override void Configure(BotOptions options)
    {
        base.Configure(options);
        options.HealthCheckInterval = TimeSpan.FromSeconds(1);
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

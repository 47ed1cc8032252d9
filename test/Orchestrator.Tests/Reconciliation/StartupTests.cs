using Orchestrator.Abstractions;
using Orchestrator.Fakes.Sensay;

namespace Orchestrator.Tests.Reconciliation;

/// <summary>A two-silo cluster started while Sensay already lists a bot; reloads otherwise only every hour.</summary>
public sealed class SeededUpstreamFixture : ReconciliationClusterFixture
{
    public FakeReplica Seeded { get; } = NewReplica();

    protected override void BeforeDeploy() => Sensay.SetReplicas([Seeded]);
}

/// <summary>The silos wake the orchestrator, whose start-up reload runs the bots Sensay lists.</summary>
public sealed class StartupTests(SeededUpstreamFixture fixture) : IClassFixture<SeededUpstreamFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task A_starting_cluster_reloads_from_Sensay_without_being_asked()
    {
        // Nothing calls the orchestrator here: the silos wake it, and it reloads at start.
        await fixture.Telegram.WaitForPendingPollAsync(fixture.Seeded.TelegramToken!, Timeout);

        Assert.Equal([fixture.Seeded.Uuid], await fixture.Orchestrator.GetBotIdsAsync());
        var status = await fixture.WaitForStatusAsync(fixture.Seeded.Uuid, BotStatus.Running, Timeout);
        Assert.Equal(fixture.Seeded.Slug, status.ReplicaSlug);
    }
}

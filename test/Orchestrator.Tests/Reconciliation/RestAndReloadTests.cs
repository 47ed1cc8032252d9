using Orchestrator.Abstractions;
using Orchestrator.Fakes.Sensay;

namespace Orchestrator.Tests.Reconciliation;

/// <summary>REST changes apply at once, also while a reload is loading; the next reload reconciles them with Sensay.</summary>
[Collection(ReconciliationCollection.Name)]
public sealed class RestAndReloadTests(ReconciliationFixture fixture) : ReconciliationTests(fixture)
{
    [Fact]
    public async Task A_bot_created_through_REST_that_Sensay_does_not_have_is_stopped_at_the_next_reload()
    {
        // Three from Sensay plus one from REST: removing one of four is not a mass removal.
        var replicas = Enumerable.Range(0, 3).Select(_ => ReconciliationClusterFixture.NewReplica()).ToList();
        Sensay.SetReplicas(replicas);
        await Orchestrator.ReloadAsync();
        var restBot = ReconciliationClusterFixture.NewDefinition();
        Assert.Equal(CreateBotResult.Created, await Orchestrator.CreateBotAsync(restBot));
        await Telegram.WaitForPendingPollAsync(restBot.Token, Timeout);

        var report = await Orchestrator.ReloadAsync();

        Assert.Equal(ReloadOutcome.Applied, report.Outcome);
        Assert.Equal((0, 0, 1), (report.Added, report.Changed, report.Removed));
        Assert.Equal(replicas.Select(r => r.Uuid).Order(StringComparer.Ordinal), await Orchestrator.GetBotIdsAsync());
        await Telegram.WaitUntilAsync(t => t.PendingPollCount(restBot.Token) == 0, "the REST bot's poll to end", Timeout);
        Assert.Null(await Fixture.Bot(restBot.ReplicaUuid).GetStatusAsync());
        foreach (var replica in replicas)
        {
            await Telegram.WaitForPendingPollAsync(replica.TelegramToken!, Timeout);
        }
    }

    [Fact]
    public async Task A_REST_token_change_is_replaced_by_Sensays_token_at_the_next_reload()
    {
        var replica = ReconciliationClusterFixture.NewReplica();
        Sensay.SetReplicas([replica]);
        await Orchestrator.ReloadAsync();
        var restToken = ReconciliationClusterFixture.NewToken();
        Assert.Equal(UpdateBotResult.Updated, await Orchestrator.UpdateBotAsync(replica.Uuid, new BotPatch(null, null, restToken)));
        await Telegram.WaitForPendingPollAsync(restToken, Timeout);

        var report = await Orchestrator.ReloadAsync();

        Assert.Equal((0, 1, 0), (report.Added, report.Changed, report.Removed));
        await Telegram.WaitUntilAsync(t => t.PendingPollCount(restToken) == 0, "the REST token's poll to end", Timeout);
        await Telegram.WaitForPendingPollAsync(replica.TelegramToken!, Timeout);
    }

    [Fact]
    public async Task A_REST_create_during_a_slow_reload_applies_at_once_and_that_reload_leaves_it_alone()
    {
        var replicas = Enumerable.Range(0, 3).Select(_ => ReconciliationClusterFixture.NewReplica()).ToList();
        Sensay.SetReplicas(replicas);
        await Orchestrator.ReloadAsync();
        var since = Sensay.Requests.LastOrDefault()?.Sequence ?? 0;
        Sensay.InjectFault(SensayRoute.ReplicaList, new SensayFault { Delay = TimeSpan.FromSeconds(2), Page = 1 });

        var reload = Orchestrator.ReloadAsync();
        await Sensay.WaitForRequestAsync(r => r.Sequence > since && r.Route == SensayRoute.ReplicaList, Timeout);
        var restBot = ReconciliationClusterFixture.NewDefinition();
        Assert.Equal(CreateBotResult.Created, await Orchestrator.CreateBotAsync(restBot));

        // The create did not wait for the slow reload, and the reload's older snapshot does not undo it.
        Assert.False(reload.IsCompleted, "the create waited for the reload to finish");
        await Telegram.WaitForPendingPollAsync(restBot.Token, Timeout);
        var report = await reload;
        Assert.Equal(ReloadOutcome.Applied, report.Outcome);
        Assert.Equal(0, report.Removed);
        Assert.Contains(restBot.ReplicaUuid, await Orchestrator.GetBotIdsAsync());

        // The next reload reconciles it with Sensay, which does not have it.
        var next = await Orchestrator.ReloadAsync();
        Assert.Equal(1, next.Removed);
        await Telegram.WaitUntilAsync(t => t.PendingPollCount(restBot.Token) == 0, "the REST bot's poll to end", Timeout);
    }
}

using Orchestrator.Abstractions;
using Orchestrator.Fakes.Sensay;

namespace Orchestrator.Tests.Reconciliation;

/// <summary>A reload that fails part-way changes nothing; a mass removal waits for confirmation.</summary>
[Collection(ReconciliationCollection.Name)]
public sealed class ReloadSafetyTests(ReconciliationFixture fixture) : ReconciliationTests(fixture)
{
    [Theory]
    [InlineData("HTTP 500 on page 2, also on every retry")]
    [InlineData("malformed JSON on page 2")]
    [InlineData("total changes between page 1 and page 3")]
    [InlineData("page 3 missing (404)")]
    [InlineData("page 2 hangs past the reload timeout")]
    public async Task A_reload_that_fails_part_way_changes_nothing_and_the_next_one_applies(string failure)
    {
        // Three pages; bots on each. Fillers without a Telegram integration make the pages without making bots.
        var onPage1 = ReconciliationClusterFixture.NewReplica();
        var onPage2 = ReconciliationClusterFixture.NewReplica();
        var onPage3 = ReconciliationClusterFixture.NewReplica();
        var fillers = Enumerable.Range(0, 207).Select(_ => ReconciliationClusterFixture.NewReplica(withIntegration: false)).ToList();
        Sensay.SetReplicas([onPage1, .. fillers[..100], onPage2, .. fillers[100..], onPage3]);
        Assert.Equal(ReloadOutcome.Applied, (await Orchestrator.ReloadAsync()).Outcome);
        string[] before = [onPage1.Uuid, onPage2.Uuid, onPage3.Uuid];
        Assert.Equal(before.Order(StringComparer.Ordinal), await Orchestrator.GetBotIdsAsync());
        foreach (var token in new[] { onPage1.TelegramToken!, onPage2.TelegramToken!, onPage3.TelegramToken! })
        {
            await Telegram.WaitForPendingPollAsync(token, Timeout);
        }

        // Upstream changes that a failed reload must not apply: a token change and a new replica (on page 1,
        // so the total stays on three pages).
        var newToken = ReconciliationClusterFixture.NewToken();
        Sensay.UpdateReplica(onPage2.Uuid, r => r with { TelegramToken = newToken });
        var added = ReconciliationClusterFixture.NewReplica();
        Sensay.RemoveReplica(fillers[0].Uuid);
        Sensay.SetReplicas([added, .. Sensay.Replicas]);
        Sensay.InjectFault(SensayRoute.ReplicaList, failure switch
        {
            "HTTP 500 on page 2, also on every retry" => new SensayFault { StatusCode = 500, Page = 2, Times = SensayFault.UntilCleared },
            "malformed JSON on page 2" => new SensayFault { MalformedJson = true, Page = 2, Times = SensayFault.UntilCleared },
            "total changes between page 1 and page 3" => new SensayFault { TotalDelta = 1, Page = 3, Times = SensayFault.UntilCleared },
            "page 3 missing (404)" => new SensayFault { StatusCode = 404, Page = 3, Times = SensayFault.UntilCleared },
            "page 2 hangs past the reload timeout" => new SensayFault { Hang = true, Page = 2, Times = SensayFault.UntilCleared },
            _ => throw new ArgumentOutOfRangeException(nameof(failure)),
        });

        var report = await Orchestrator.ReloadAsync();

        Assert.Equal(ReloadOutcome.Failed, report.Outcome);
        Assert.NotNull(report.Error);
        Assert.DoesNotContain(ReconciliationClusterFixture.SensayApiKey, report.Error, StringComparison.Ordinal);
        Assert.Equal((0, 0, 0, 0), (report.Added, report.Changed, report.Removed, report.Held));
        Assert.Equal(before.Order(StringComparer.Ordinal), await Orchestrator.GetBotIdsAsync());
        Assert.Null(await Fixture.Bot(added.Uuid).GetStatusAsync());
        Assert.Equal(0, Telegram.CallCount(added.TelegramToken!, "getMe"));
        Assert.Equal(0, Telegram.CallCount(newToken, "getMe"));
        foreach (var token in new[] { onPage1.TelegramToken!, onPage2.TelegramToken!, onPage3.TelegramToken! })
        {
            await Telegram.WaitForPendingPollAsync(token, Timeout);
            Assert.Equal(1, Telegram.CallCount(token, "getMe"));
        }

        Sensay.ClearFaults();
        var retried = await Orchestrator.ReloadAsync();

        Assert.Equal(ReloadOutcome.Applied, retried.Outcome);
        Assert.Equal((1, 1, 0), (retried.Added, retried.Changed, retried.Removed));
        await Telegram.WaitForPendingPollAsync(added.TelegramToken!, Timeout);
        await Telegram.WaitForPendingPollAsync(newToken, Timeout);
        await Telegram.WaitUntilAsync(t => t.PendingPollCount(onPage2.TelegramToken!) == 0, "the replaced token's poll to end", Timeout);
    }

    [Fact]
    public async Task Removing_more_than_half_is_held_until_the_next_reload_confirms_it()
    {
        var replicas = Enumerable.Range(0, 4).Select(_ => ReconciliationClusterFixture.NewReplica()).ToList();
        Sensay.SetReplicas(replicas);
        await Orchestrator.ReloadAsync();
        foreach (var replica in replicas)
        {
            await Telegram.WaitForPendingPollAsync(replica.TelegramToken!, Timeout);
        }

        var gone = replicas[1..];
        Sensay.SetReplicas([replicas[0]]);
        var held = await Orchestrator.ReloadAsync();

        Assert.Equal(ReloadOutcome.RemovalHeld, held.Outcome);
        Assert.Equal((3, 0), (held.Held, held.Removed));
        Assert.Equal(replicas.Select(r => r.Uuid).Order(StringComparer.Ordinal), await Orchestrator.GetBotIdsAsync());
        foreach (var replica in gone)
        {
            await Telegram.WaitForPendingPollAsync(replica.TelegramToken!, Timeout);
            Assert.Equal(BotStatus.Running, (await Fixture.WaitForStatusAsync(replica.Uuid, BotStatus.Running, Timeout)).Status);
        }

        var confirmed = await Orchestrator.ReloadAsync();

        Assert.Equal(ReloadOutcome.Applied, confirmed.Outcome);
        Assert.Equal((0, 3), (confirmed.Held, confirmed.Removed));
        Assert.Equal([replicas[0].Uuid], await Orchestrator.GetBotIdsAsync());
        foreach (var replica in gone)
        {
            await Telegram.WaitUntilAsync(t => t.PendingPollCount(replica.TelegramToken!) == 0, "a removed bot's poll to end", Timeout);
            Assert.Null(await Fixture.Bot(replica.Uuid).GetStatusAsync());
        }

        await Telegram.WaitForPendingPollAsync(replicas[0].TelegramToken!, Timeout);
    }

    [Fact]
    public async Task A_held_mass_removal_that_upstream_takes_back_is_forgotten()
    {
        var replicas = Enumerable.Range(0, 4).Select(_ => ReconciliationClusterFixture.NewReplica()).ToList();
        Sensay.SetReplicas(replicas);
        await Orchestrator.ReloadAsync();

        Sensay.SetReplicas([replicas[0]]);
        Assert.Equal(ReloadOutcome.RemovalHeld, (await Orchestrator.ReloadAsync()).Outcome);
        Sensay.SetReplicas(replicas);
        var restored = await Orchestrator.ReloadAsync();
        Assert.Equal(ReloadOutcome.Applied, restored.Outcome);
        Assert.Equal((0, 0), (restored.Removed, restored.Held));

        // The earlier hold does not count as a confirmation of a new mass removal.
        Sensay.SetReplicas([replicas[0]]);
        var again = await Orchestrator.ReloadAsync();

        Assert.Equal(ReloadOutcome.RemovalHeld, again.Outcome);
        Assert.Equal(4, (await Orchestrator.GetBotIdsAsync()).Length);
        foreach (var replica in replicas)
        {
            await Telegram.WaitForPendingPollAsync(replica.TelegramToken!, Timeout);
        }
    }
}

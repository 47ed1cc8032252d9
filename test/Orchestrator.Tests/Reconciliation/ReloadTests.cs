using Orchestrator.Abstractions;
using Orchestrator.Fakes.Sensay;
using Orchestrator.Fakes.Telegram;

namespace Orchestrator.Tests.Reconciliation;

/// <summary>Reloads from the fake Sensay: paging, the service filter, add/update/remove/revive, idempotence.</summary>
[Collection(ReconciliationCollection.Name)]
public sealed class ReloadTests(ReconciliationFixture fixture) : ReconciliationTests(fixture)
{
    [Fact]
    public async Task Reload_pages_through_every_replica_and_every_one_becomes_a_bot()
    {
        var replicas = Enumerable.Range(0, 250).Select(_ => ReconciliationClusterFixture.NewReplica()).ToList();
        Sensay.SetReplicas(replicas);
        var since = Sensay.Requests.LastOrDefault()?.Sequence ?? 0;

        var report = await Orchestrator.ReloadAsync();

        Assert.Equal(ReloadOutcome.Applied, report.Outcome);
        Assert.Equal(250, report.Added);
        Assert.Equal(replicas.Select(r => r.Uuid).Order(StringComparer.Ordinal), await Orchestrator.GetBotIdsAsync());
        var pages = Sensay.Requests.Where(r => r.Sequence > since && r.Route == SensayRoute.ReplicaList).Select(r => r.PathAndQuery).ToList();
        Assert.Equal(3, pages.Count);
        for (var page = 1; page <= 3; page++)
        {
            Assert.Single(pages, p => p.Contains($"page={page}&", StringComparison.Ordinal) && p.Contains("page_size=100", StringComparison.Ordinal) && p.Contains("integration=telegram", StringComparison.Ordinal));
        }

        // One bot from the first page and one from the last actually poll.
        await Telegram.WaitForPendingPollAsync(replicas[0].TelegramToken!, Timeout);
        await Telegram.WaitForPendingPollAsync(replicas[^1].TelegramToken!, Timeout);
    }

    [Fact]
    public async Task Reload_runs_only_replicas_of_this_service_that_have_a_token()
    {
        var ours = ReconciliationClusterFixture.NewReplica();
        var noIntegration = ReconciliationClusterFixture.NewReplica(withIntegration: false);
        var noToken = ReconciliationClusterFixture.NewReplica(withToken: false);
        var noServiceName = ReconciliationClusterFixture.NewReplica(serviceName: null);
        var otherService = ReconciliationClusterFixture.NewReplica(serviceName: "another-telegram-service");
        var prefixOnly = ReconciliationClusterFixture.NewReplica(serviceName: "sensay-telegram-integrations-staging");
        var otherCase = ReconciliationClusterFixture.NewReplica(serviceName: "Sensay-Telegram-Integrations");
        FakeReplica[] excluded = [noIntegration, noToken, noServiceName, otherService, prefixOnly, otherCase];
        Sensay.SetReplicas([noIntegration, noToken, ours, noServiceName, otherService, prefixOnly, otherCase]);

        var report = await Orchestrator.ReloadAsync();

        Assert.Equal(ReloadOutcome.Applied, report.Outcome);
        Assert.Equal(1, report.Added);
        Assert.Equal([ours.Uuid], await Orchestrator.GetBotIdsAsync());
        await Telegram.WaitForPendingPollAsync(ours.TelegramToken!, Timeout);
        foreach (var replica in excluded)
        {
            Assert.Null(await Fixture.Bot(replica.Uuid).GetStatusAsync());
            if (replica.TelegramToken is { } token)
            {
                Assert.Equal(0, Telegram.CallCount(token, "getMe"));
            }
        }
    }

    [Fact]
    public async Task A_replica_added_upstream_starts_at_the_next_reload()
    {
        var first = ReconciliationClusterFixture.NewReplica();
        Sensay.SetReplicas([first]);
        await Orchestrator.ReloadAsync();
        await Telegram.WaitForPendingPollAsync(first.TelegramToken!, Timeout);

        var added = ReconciliationClusterFixture.NewReplica();
        Sensay.AddReplica(added);
        var report = await Orchestrator.ReloadAsync();

        Assert.Equal(ReloadOutcome.Applied, report.Outcome);
        Assert.Equal((1, 0, 0), (report.Added, report.Changed, report.Removed));
        await Telegram.WaitForPendingPollAsync(added.TelegramToken!, Timeout);
        var status = await Fixture.WaitForStatusAsync(added.Uuid, BotStatus.Running, Timeout);
        Assert.Equal(added.Slug, status.ReplicaSlug);
        Assert.Equal(added.OwnerUuid, status.OwnerUuid);
        Assert.Equal(1, Telegram.CallCount(first.TelegramToken!, "getMe"));
    }

    [Fact]
    public async Task A_token_changed_upstream_stops_the_old_poller_and_the_new_token_polls()
    {
        var replica = ReconciliationClusterFixture.NewReplica();
        Sensay.SetReplicas([replica]);
        await Orchestrator.ReloadAsync();
        await Telegram.WaitForPendingPollAsync(replica.TelegramToken!, Timeout);

        var newToken = ReconciliationClusterFixture.NewToken();
        Sensay.UpdateReplica(replica.Uuid, r => r with { TelegramToken = newToken });
        var report = await Orchestrator.ReloadAsync();

        Assert.Equal((0, 1, 0), (report.Added, report.Changed, report.Removed));
        await Telegram.WaitUntilAsync(t => t.PendingPollCount(replica.TelegramToken!) == 0, "the old token's poll to end", Timeout);
        var oldPolls = Telegram.CallCount(replica.TelegramToken!, "getUpdates");
        await Telegram.WaitForPendingPollAsync(newToken, Timeout);
        var newPolls = Telegram.CallCount(newToken, "getUpdates");
        // Let time pass observably: the new token completes two more long polls meanwhile; the old one stays silent.
        await Telegram.WaitUntilAsync(t => t.CallCount(newToken, "getUpdates") >= newPolls + 2, "two more polls with the new token", Timeout);
        Assert.Equal(oldPolls, Telegram.CallCount(replica.TelegramToken!, "getUpdates"));
        Assert.Equal(0, Telegram.ConflictCountFor(newToken));
        var status = await Fixture.Bot(replica.Uuid).GetStatusAsync();
        Assert.Equal(1, status!.Restarts);
    }

    [Fact]
    public async Task A_slug_or_owner_changed_upstream_restarts_the_bot_and_status_shows_the_new_values()
    {
        var replica = ReconciliationClusterFixture.NewReplica();
        var other = ReconciliationClusterFixture.NewReplica();
        Sensay.SetReplicas([replica, other]);
        await Orchestrator.ReloadAsync();
        await Telegram.WaitForPendingPollAsync(replica.TelegramToken!, Timeout);

        Sensay.UpdateReplica(replica.Uuid, r => r with { Slug = r.Slug + "-renamed" });
        Sensay.UpdateReplica(other.Uuid, r => r with { OwnerUuid = "new-owner" });
        var report = await Orchestrator.ReloadAsync();

        Assert.Equal((0, 2, 0), (report.Added, report.Changed, report.Removed));
        var status = await Fixture.WaitForStatusAsync(replica.Uuid, BotStatus.Running, Timeout);
        Assert.Equal(replica.Slug + "-renamed", status.ReplicaSlug);
        Assert.Equal(1, status.Restarts);
        var otherStatus = await Fixture.Bot(other.Uuid).GetStatusAsync();
        Assert.Equal("new-owner", otherStatus!.OwnerUuid);
        await Telegram.WaitForPendingPollAsync(replica.TelegramToken!, Timeout);
    }

    [Fact]
    public async Task A_replica_removed_upstream_is_stopped_at_the_next_reload()
    {
        var replicas = Enumerable.Range(0, 3).Select(_ => ReconciliationClusterFixture.NewReplica()).ToList();
        Sensay.SetReplicas(replicas);
        await Orchestrator.ReloadAsync();
        await Telegram.WaitForPendingPollAsync(replicas[0].TelegramToken!, Timeout);

        Sensay.RemoveReplica(replicas[0].Uuid);
        var report = await Orchestrator.ReloadAsync();

        Assert.Equal(ReloadOutcome.Applied, report.Outcome);
        Assert.Equal((0, 0, 1), (report.Added, report.Changed, report.Removed));
        Assert.DoesNotContain(replicas[0].Uuid, await Orchestrator.GetBotIdsAsync());
        await Telegram.WaitUntilAsync(t => t.PendingPollCount(replicas[0].TelegramToken!) == 0, "the removed bot's poll to end", Timeout);
        Assert.Null(await Fixture.Bot(replicas[0].Uuid).GetStatusAsync());
        await Telegram.WaitForPendingPollAsync(replicas[1].TelegramToken!, Timeout);
    }

    [Fact]
    public async Task A_failed_bot_with_an_unchanged_definition_is_revived_by_the_next_reload()
    {
        var replica = ReconciliationClusterFixture.NewReplica();
        Sensay.SetReplicas([replica]);
        Telegram.InjectFault(replica.TelegramToken!, "getMe", TelegramFault.Unauthorized());
        await Orchestrator.ReloadAsync();
        var failed = await Fixture.WaitForStatusAsync(replica.Uuid, BotStatus.Failed, Timeout);
        Assert.NotNull(failed.LastError);

        var report = await Orchestrator.ReloadAsync();

        Assert.Equal(ReloadOutcome.Applied, report.Outcome);
        Assert.Equal((0, 0, 0, 1), (report.Added, report.Changed, report.Removed, report.Revived));
        await Telegram.WaitForPendingPollAsync(replica.TelegramToken!, Timeout);
        var status = await Fixture.WaitForStatusAsync(replica.Uuid, BotStatus.Running, Timeout);
        Assert.Equal(0, status.ConsecutiveFailures);
    }

    [Fact]
    public async Task Reloading_again_without_upstream_changes_touches_no_bot()
    {
        var replicas = Enumerable.Range(0, 3).Select(_ => ReconciliationClusterFixture.NewReplica()).ToList();
        Sensay.SetReplicas(replicas);
        await Orchestrator.ReloadAsync();
        foreach (var replica in replicas)
        {
            await Telegram.WaitForPendingPollAsync(replica.TelegramToken!, Timeout);
        }

        var reports = await Task.WhenAll(Orchestrator.ReloadAsync(), Orchestrator.ReloadAsync());

        foreach (var report in reports)
        {
            Assert.Equal(ReloadOutcome.Applied, report.Outcome);
            Assert.Equal((0, 0, 0, 0, 0), (report.Added, report.Changed, report.Removed, report.Revived, report.Held));
        }

        foreach (var replica in replicas)
        {
            Assert.Equal(1, Telegram.CallCount(replica.TelegramToken!, "getMe"));
            Assert.Equal(0, (await Fixture.Bot(replica.Uuid).GetStatusAsync())!.Restarts);
        }
    }
}

using Orchestrator.Abstractions;
using Orchestrator.Grains.Orchestration;

namespace Orchestrator.Tests.Orchestration;

public sealed class StatusTableTests
{
    private static BotStatusReport Report(string id, BotStatus status, string? error = null) => new()
    {
        ReplicaUuid = id,
        ReplicaSlug = "slug-" + id,
        Status = status,
        LastError = error,
        StatusSince = new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero),
    };

    [Fact]
    public void Counts_bots_by_status_and_lists_those_not_running()
    {
        var table = StatusTable.Format(
            [Report("a", BotStatus.Running), Report("b", BotStatus.Failed, "token rejected by Telegram"), Report("c", BotStatus.Running)],
            desired: 3,
            unreachable: 0);

        Assert.StartsWith("Bots: 3 desired | running 2 | unhealthy 0 | stopped 0 | restarting 0 | failed 1", table, StringComparison.Ordinal);
        Assert.Contains("slug-b", table, StringComparison.Ordinal);
        Assert.Contains("token rejected by Telegram", table, StringComparison.Ordinal);
        Assert.DoesNotContain("slug-a", table, StringComparison.Ordinal);
    }

    [Fact]
    public void All_running_is_a_single_line()
    {
        var table = StatusTable.Format([Report("a", BotStatus.Running)], desired: 1, unreachable: 0);
        Assert.DoesNotContain('\n', table);
    }

    [Fact]
    public void Unreachable_bots_are_counted() =>
        Assert.Contains("unreachable 2", StatusTable.Format([], desired: 2, unreachable: 2), StringComparison.Ordinal);

    [Fact]
    public void Bots_their_silos_report_running_are_counted_as_running()
    {
        var table = StatusTable.Format([Report("b", BotStatus.Failed)], desired: 3, unreachable: 0, reportedRunning: 2);
        Assert.StartsWith("Bots: 3 desired | running 2 | unhealthy 0 | stopped 0 | restarting 0 | failed 1", table, StringComparison.Ordinal);
    }
}

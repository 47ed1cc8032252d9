using System.Net;
using Orchestrator.Abstractions;
using Orchestrator.Grains.Bots;
using Orchestrator.Grains.Orchestration;

namespace Orchestrator.Tests.Orchestration;

public sealed class HostedBotsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private static readonly SiloAddress SiloA = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11111), 1);
    private static readonly SiloAddress SiloB = SiloAddress.New(new IPEndPoint(IPAddress.Loopback, 11112), 1);

    private static BotDefinition Bot(string id, string token = "1:a") => new(id, "slug-" + id, "owner", token);

    private static HostedBotsReport Report(SiloAddress silo, params BotDefinition[] bots) =>
        new(silo, [.. bots.Select(b => b.ReplicaUuid)], [.. bots.Select(BotDefinitionFingerprint.Of)], [.. bots.Select(_ => BotStatus.Running)]);

    private static string[] Ids(IEnumerable<BotDefinition> bots) => [.. bots.Select(b => b.ReplicaUuid)];

    [Fact]
    public void Without_reports_every_desired_bot_is_checked()
    {
        var hosted = new HostedBots();
        Assert.Equal(["a", "b"], Ids(hosted.NeedingCheck([Bot("a"), Bot("b")])));
    }

    [Fact]
    public void Bots_reported_by_any_silo_with_the_desired_definition_are_left_alone()
    {
        var hosted = new HostedBots();
        hosted.Record(Report(SiloA, Bot("a")), Now);
        hosted.Record(Report(SiloB, Bot("b")), Now);

        Assert.Equal(["c"], Ids(hosted.NeedingCheck([Bot("a"), Bot("b"), Bot("c")])));
    }

    [Fact]
    public void A_bot_running_another_definition_is_checked()
    {
        var hosted = new HostedBots();
        hosted.Record(Report(SiloA, Bot("a", token: "1:old")), Now);

        Assert.Equal(["a"], Ids(hosted.NeedingCheck([Bot("a", token: "1:new")])));
    }

    [Fact]
    public void A_newer_report_replaces_its_silos_previous_one()
    {
        var hosted = new HostedBots();
        hosted.Record(Report(SiloA, Bot("a"), Bot("b")), Now);
        hosted.Record(Report(SiloA, Bot("b")), Now);

        Assert.Equal(["a"], Ids(hosted.NeedingCheck([Bot("a"), Bot("b")])));
    }

    [Fact]
    public void Reports_of_inactive_silos_and_old_reports_are_forgotten()
    {
        var hosted = new HostedBots();
        hosted.Record(Report(SiloA, Bot("a")), Now);
        hosted.Record(Report(SiloB, Bot("b")), Now - TimeSpan.FromSeconds(20));

        hosted.Prune(silo => silo != SiloA, oldest: Now - TimeSpan.FromSeconds(15));

        Assert.Equal(["a", "b"], Ids(hosted.NeedingCheck([Bot("a"), Bot("b")])));
    }

    [Fact]
    public void Fingerprints_are_stable_never_zero_and_differ_by_every_field()
    {
        var bot = new BotDefinition("r", "s", "o", "1:t");
        Assert.Equal(BotDefinitionFingerprint.Of(bot), BotDefinitionFingerprint.Of(bot with { }));
        Assert.NotEqual(0, BotDefinitionFingerprint.Of(bot));
        BotDefinition[] variants = [bot with { ReplicaUuid = "x" }, bot with { ReplicaSlug = "x" }, bot with { OwnerUuid = "x" }, bot with { OwnerUuid = null }, bot with { Token = "1:x" }];
        Assert.DoesNotContain(BotDefinitionFingerprint.Of(bot), variants.Select(BotDefinitionFingerprint.Of));
    }

    [Fact]
    public void The_status_table_asks_only_bots_not_reported_running_with_their_definition()
    {
        var hosted = new HostedBots();
        var retrying = Bot("b");
        hosted.Record(Report(SiloA, Bot("a")), Now);
        hosted.Record(
            new HostedBotsReport(SiloB, [retrying.ReplicaUuid], [BotDefinitionFingerprint.Of(retrying)], [BotStatus.Restarting]),
            Now);

        // b needs nothing from the sweep (its loop is alive, retrying) but is not running: the table asks it.
        Assert.Equal(["c"], Ids(hosted.NeedingCheck([Bot("a"), retrying, Bot("c")])));
        Assert.Equal(["b", "c"], Ids(hosted.NotReportedRunning([Bot("a"), retrying, Bot("c")])));
        Assert.Equal(["a", "b", "c"], Ids(hosted.NotReportedRunning([Bot("a", token: "1:new"), retrying, Bot("c")])));
    }

    [Fact]
    public void A_report_from_a_silo_that_left_is_noticed_until_pruned()
    {
        var hosted = new HostedBots();
        hosted.Record(Report(SiloA, Bot("a")), Now);
        hosted.Record(Report(SiloB, Bot("b")), Now);

        Assert.False(hosted.HasReportFromInactive(_ => true));
        Assert.True(hosted.HasReportFromInactive(silo => silo != SiloB));

        hosted.Prune(silo => silo != SiloB, Now - TimeSpan.FromSeconds(15));
        Assert.False(hosted.HasReportFromInactive(silo => silo != SiloB));
        Assert.Equal(["b"], Ids(hosted.NeedingCheck([Bot("a"), Bot("b")])));
    }
}

using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Fakes.Telegram;
using Orchestrator.Grains.Bots;
using Orchestrator.Grains.Orchestration;
using Orchestrator.Tests.Infrastructure;

namespace Orchestrator.Tests.Grains;

/// <summary>One silo whose bots count as stable after 1 s of running, so the reset of the failure counter is observable.</summary>
public sealed class RestartFixture : BotClusterFixture
{
    public static readonly TimeSpan StablePeriod = TimeSpan.FromSeconds(1);

    protected override string ApiKey => "restart-test-key";

    protected override short SiloCount => 1;

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<IBotDefinitionSource>(new NoUpstream());

    protected override void Configure(BotOptions options)
    {
        base.Configure(options);
        options.StablePeriod = StablePeriod;
    }
}

/// <summary>SPEC §5 "Restart": exponential back-off from HEALTH_CHECK_INTERVAL_MS, and a counter reset after a stable period.</summary>
public sealed class RestartTests(RestartFixture fixture) : IClassFixture<RestartFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task Crashes_restart_after_a_doubling_back_off_and_a_stable_run_resets_the_failure_count()
    {
        var bot = ClusterFixture.NewDefinition();
        // A 400 on getUpdates is neither transient nor a conflict: the loop crashes, twice, then runs.
        fixture.Telegram.InjectFault(bot.Token, "getUpdates", TelegramFault.BadRequest("Bad Request: something unexpected", times: 2));
        var interval = BotClusterFixture.HealthCheckInterval;

        await fixture.Orchestrator.CreateBotAsync(bot);

        await fixture.Telegram.WaitForPendingPollAsync(bot.Token, Timeout);
        var afterCrashes = (await fixture.Bot(bot.ReplicaUuid).GetStatusAsync())!;
        Assert.Equal(2, afterCrashes.ConsecutiveFailures);
        Assert.Equal(2, afterCrashes.Restarts);
        Assert.Contains("Telegram 400", afterCrashes.LastError, StringComparison.Ordinal);
        var calls = fixture.Telegram.Calls(bot.Token);
        var failedPolls = calls.Where(c => c.Method == "getUpdates").Take(2).ToList();
        var starts = calls.Where(c => c.Method == "getMe").ToList();
        Assert.Equal(3, starts.Count);
        Assert.True(starts[1].Time - failedPolls[0].Time >= interval * 0.95, $"first restart after {(starts[1].Time - failedPolls[0].Time).TotalMilliseconds:0} ms");
        Assert.True(starts[2].Time - failedPolls[1].Time >= interval * 2 * 0.95, $"second restart after {(starts[2].Time - failedPolls[1].Time).TotalMilliseconds:0} ms");

        // Once it has run for the stable period, its next answered poll forgets the failures.
        var stable = await fixture.WaitForStatusAsync(bot.ReplicaUuid, r => r.ConsecutiveFailures == 0, "forget its failures", Timeout);
        Assert.Equal(2, stable.Restarts);
        Assert.True(DateTimeOffset.UtcNow - afterCrashes.StatusSince >= RestartFixture.StablePeriod * 0.95, "reset before the stable period");
        await fixture.Orchestrator.DeleteBotAsync(bot.ReplicaUuid);
    }
}

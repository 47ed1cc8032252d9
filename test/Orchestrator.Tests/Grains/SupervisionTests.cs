using Orchestrator.Abstractions;
using Orchestrator.Fakes.Telegram;

namespace Orchestrator.Tests.Grains;

[Collection(ClusterCollection.Name)]
public sealed class SupervisionTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private TelegramEmulator Telegram => fixture.Telegram;

    private IBotGrain Grain(BotDefinition bot) => fixture.Grains.GetGrain<IBotGrain>(bot.ReplicaUuid);

    private Task<BotStatusReport> WaitForStatusAsync(BotDefinition bot, BotStatus status) =>
        fixture.WaitForStatusAsync(bot.ReplicaUuid, status, Timeout);

    /// <summary>Lets time pass observably: another bot completes two more long polls.</summary>
    private async Task LetTwoPollsPassAsync()
    {
        var witness = fixture.NewBot();
        await fixture.Orchestrator.CreateBotAsync(witness);
        await Telegram.WaitForPendingPollAsync(witness.Token, Timeout);
        var polls = Telegram.CallCount(witness.Token, "getUpdates");
        await Telegram.WaitUntilAsync(t => t.CallCount(witness.Token, "getUpdates") >= polls + 2, "two more polls of a witness bot", Timeout);
        await fixture.Orchestrator.DeleteBotAsync(witness.ReplicaUuid);
    }

    [Fact]
    public async Task A_rejected_token_fails_at_once_and_Telegram_sees_no_more_calls()
    {
        var bot = fixture.NewBot();
        Telegram.RevokeToken(bot.Token);

        await fixture.Orchestrator.CreateBotAsync(bot);

        var failed = await WaitForStatusAsync(bot, BotStatus.Failed);
        Assert.Equal("token rejected by Telegram", failed.LastError);
        Assert.NotNull(failed.StatusSince);
        var calls = Telegram.Calls(bot.Token).Count;
        await LetTwoPollsPassAsync();
        Assert.Equal(calls, Telegram.Calls(bot.Token).Count);
        await fixture.Orchestrator.DeleteBotAsync(bot.ReplicaUuid);
    }

    [Fact]
    public async Task A_token_revoked_while_polling_fails_the_bot_at_once_without_retries()
    {
        var bot = fixture.NewBot();
        await fixture.Orchestrator.CreateBotAsync(bot);
        await Telegram.WaitForPendingPollAsync(bot.Token, Timeout);

        Telegram.RevokeToken(bot.Token);

        var failed = await WaitForStatusAsync(bot, BotStatus.Failed);
        Assert.Equal("token rejected by Telegram", failed.LastError);
        Assert.Equal(0, failed.Restarts);
        var calls = Telegram.Calls(bot.Token).Count;
        await LetTwoPollsPassAsync();
        Assert.Equal(calls, Telegram.Calls(bot.Token).Count);
        await fixture.Orchestrator.DeleteBotAsync(bot.ReplicaUuid);
    }

    [Fact]
    public async Task Repeated_start_failures_end_in_failed_and_a_put_revives_the_bot()
    {
        var bot = fixture.NewBot();
        Telegram.InjectFault(bot.Token, "getMe", TelegramFault.BadRequest("Bad Request: something unexpected") with { Times = 3 });

        await fixture.Orchestrator.CreateBotAsync(bot);

        var failed = await WaitForStatusAsync(bot, BotStatus.Failed);
        Assert.Equal(3, failed.ConsecutiveFailures);
        Assert.Contains("gave up after 3 consecutive failures", failed.LastError, StringComparison.Ordinal);
        Assert.Equal(3, Telegram.CallCount(bot.Token, "getMe"));

        // The fault is used up; an unchanged PUT revives the bot with a fresh counter.
        Assert.Equal(UpdateBotResult.Unchanged, await fixture.Orchestrator.UpdateBotAsync(bot.ReplicaUuid, new BotPatch(null, null, null)));
        await Telegram.WaitForPendingPollAsync(bot.Token, Timeout);
        var running = await WaitForStatusAsync(bot, BotStatus.Running);
        Assert.Equal(0, running.ConsecutiveFailures);
        await fixture.Orchestrator.DeleteBotAsync(bot.ReplicaUuid);
    }

    [Fact]
    public async Task Server_errors_while_polling_are_retried_and_the_message_sent_meanwhile_is_answered()
    {
        var bot = fixture.NewBot();
        await fixture.Orchestrator.CreateBotAsync(bot);
        await Telegram.WaitForPendingPollAsync(bot.Token, Timeout);
        Telegram.InjectFault(bot.Token, "getUpdates", TelegramFault.ServerError(502) with { Times = 3 });
        Telegram.InjectFault(bot.Token, "getUpdates", TelegramFault.HtmlBadGateway() with { Times = 2 });

        var update = Telegram.SendPrivateText(bot.Token, "are you there?");

        var reply = await Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);
        Assert.Contains("are you there?", reply.Text, StringComparison.Ordinal);
        await Telegram.WaitForConfirmedAsync(bot.Token, update.UpdateId, Timeout);
        var status = await WaitForStatusAsync(bot, BotStatus.Running);
        Assert.Equal(0, status.ConsecutiveFailures);
        await fixture.Orchestrator.DeleteBotAsync(bot.ReplicaUuid);
    }

    [Fact]
    public async Task A_conflict_backs_off_is_counted_and_the_bot_recovers()
    {
        var bot = fixture.NewBot();
        await fixture.Orchestrator.CreateBotAsync(bot);
        await Telegram.WaitForPendingPollAsync(bot.Token, Timeout);
        var before = Telegram.CallCount(bot.Token, "getUpdates");
        Telegram.InjectFault(bot.Token, "getUpdates", TelegramFault.Conflict() with { Times = 2 });

        // The poll in flight ends; the next two are refused with 409; the bot backs off and polls again.
        await Telegram.WaitUntilAsync(t => t.CallCount(bot.Token, "getUpdates") >= before + 3 && t.PendingPollCount(bot.Token) == 1, "polling to resume after two conflicts", Timeout);
        Telegram.SendPrivateText(bot.Token, "hello after a conflict");
        await Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);
        var status = await WaitForStatusAsync(bot, BotStatus.Running);
        Assert.Equal(2, status.Conflicts);
        Assert.Equal(0, status.ConsecutiveFailures);
        await fixture.Orchestrator.DeleteBotAsync(bot.ReplicaUuid);
    }

    [Fact]
    public async Task Too_many_requests_on_polling_waits_retry_after()
    {
        var bot = fixture.NewBot();
        await fixture.Orchestrator.CreateBotAsync(bot);
        await Telegram.WaitForPendingPollAsync(bot.Token, Timeout);
        var before = Telegram.CallCount(bot.Token, "getUpdates");
        Telegram.InjectFault(bot.Token, "getUpdates", TelegramFault.TooManyRequests(1));

        // The poll in flight ends normally; the next one is refused with retry_after 1; the one after must wait.
        await Telegram.WaitUntilAsync(t => t.CallCount(bot.Token, "getUpdates") >= before + 2, "two polls after the rate limit", Timeout);

        var polls = Telegram.Calls(bot.Token).Where(c => c.Method == "getUpdates").ToList();
        // retry_after (1 s), not the 50 ms transient back-off. Less a few ms: .NET's timers on Linux run on the coarse
        // monotonic clock (a few ms per tick), so a 1 s delay can end a little before 1 s of the emulator's clock.
        var gap = polls[before + 1].Time - polls[before].Time;
        Assert.True(gap >= TimeSpan.FromMilliseconds(950), $"the poll after a 429 waited retry_after: {gap.TotalMilliseconds:0} ms after the 429");
        Telegram.SendPrivateText(bot.Token, "after the rate limit");
        await Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);
        await fixture.Orchestrator.DeleteBotAsync(bot.ReplicaUuid);
    }

    [Fact]
    public async Task The_health_sweep_leaves_alone_a_bot_its_silo_reports_healthy()
    {
        var bot = fixture.NewBot();
        await fixture.Orchestrator.CreateBotAsync(bot);
        await Telegram.WaitForPendingPollAsync(bot.Token, Timeout);

        // Each silo reports its healthy bots every interval; from the report after the bot started, sweeps skip it.
        // (Without the reports every sweep calls every bot, and this never ends.)
        using var deadline = new CancellationTokenSource(Timeout);
        int before;
        do
        {
            Assert.False(deadline.IsCancellationRequested, "every health sweep kept calling a healthy bot");
            before = fixture.HealthChecksOf(bot.ReplicaUuid);
            await fixture.WaitForHealthSweepsAsync(2, Timeout);
        }
        while (fixture.HealthChecksOf(bot.ReplicaUuid) != before);

        await fixture.Orchestrator.DeleteBotAsync(bot.ReplicaUuid);
    }

    [Fact]
    public async Task Health_asks_only_the_bots_their_silos_do_not_report_running()
    {
        var running = fixture.NewBot();
        var failed = fixture.NewBot();
        Telegram.RevokeToken(failed.Token);
        await fixture.Orchestrator.CreateBotAsync(running);
        await fixture.Orchestrator.CreateBotAsync(failed);
        await Telegram.WaitForPendingPollAsync(running.Token, Timeout);
        await WaitForStatusAsync(failed, BotStatus.Failed);

        // Once its silo has reported the running bot (every health interval), /health counts it without calling it;
        // the failed bot is never reported running, so /health keeps asking it.
        using var deadline = new CancellationTokenSource(Timeout);
        string[] toAsk;
        while ((toAsk = await fixture.Orchestrator.GetBotIdsNotReportedRunningAsync()).Contains(running.ReplicaUuid))
        {
            Assert.False(deadline.IsCancellationRequested, "the running bot was never reported running");
            await fixture.WaitForHealthSweepsAsync(1, Timeout);
        }

        Assert.Contains(failed.ReplicaUuid, toAsk);
        await fixture.Orchestrator.DeleteBotAsync(running.ReplicaUuid);
        await fixture.Orchestrator.DeleteBotAsync(failed.ReplicaUuid);
    }

    [Fact]
    public async Task A_hung_poll_is_replaced()
    {
        var bot = fixture.NewBot();
        await fixture.Orchestrator.CreateBotAsync(bot);
        await Telegram.WaitForPendingPollAsync(bot.Token, Timeout);
        Telegram.InjectFault(bot.Token, "getUpdates", TelegramFault.Hung());

        var update = Telegram.SendPrivateText(bot.Token, "still there?");

        await Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);
        await Telegram.WaitForConfirmedAsync(bot.Token, update.UpdateId, Timeout);
        var status = await WaitForStatusAsync(bot, BotStatus.Running);
        Assert.Contains("did not answer", status.LastError, StringComparison.Ordinal);
        await fixture.Orchestrator.DeleteBotAsync(bot.ReplicaUuid);
    }

    [Fact]
    public async Task A_faulty_bot_does_not_hold_up_a_healthy_one()
    {
        var faulty = fixture.NewBot();
        var healthy = fixture.NewBot();
        Telegram.InjectFault(faulty.Token, null, TelegramFault.ServerError(500) with { Times = int.MaxValue });
        await fixture.Orchestrator.CreateBotAsync(faulty);
        await Telegram.WaitUntilAsync(t => t.CallCount(faulty.Token, "getMe") >= 3, "the faulty bot to retry its start", Timeout);
        await fixture.Orchestrator.CreateBotAsync(healthy);
        await Telegram.WaitForPendingPollAsync(healthy.Token, Timeout);

        for (var i = 0; i < 3; i++)
        {
            Telegram.SendPrivateText(healthy.Token, $"message {i}");
            await Telegram.WaitForSentMessageAsync(healthy.Token, m => m.Text.Contains($"message {i}", StringComparison.Ordinal), Timeout);
        }

        Assert.Equal(BotStatus.Restarting, (await Grain(faulty).GetStatusAsync())!.Status);
        Assert.Equal(BotStatus.Running, (await Grain(healthy).GetStatusAsync())!.Status);
        Telegram.ClearFaults(faulty.Token);
        await fixture.Orchestrator.DeleteBotAsync(faulty.ReplicaUuid);
        await fixture.Orchestrator.DeleteBotAsync(healthy.ReplicaUuid);
    }
}

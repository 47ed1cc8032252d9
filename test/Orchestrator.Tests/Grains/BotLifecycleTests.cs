using Orchestrator.Abstractions;
using Orchestrator.Fakes.Telegram;

namespace Orchestrator.Tests.Grains;

[Collection(ClusterCollection.Name)]
public sealed class BotLifecycleTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private TelegramEmulator Telegram => fixture.Telegram;

    [Fact]
    public async Task Private_message_gets_the_completion_as_reply_and_the_offset_is_confirmed()
    {
        var bot = fixture.NewBot();
        Assert.Equal(CreateBotResult.Created, await fixture.Orchestrator.CreateBotAsync(bot));
        await Telegram.WaitForPendingPollAsync(bot.Token, Timeout);

        var update = Telegram.SendPrivateText(bot.Token, "What is the meaning of life?");

        var reply = await Telegram.WaitForSentMessageAsync(bot.Token, m => m.ChatId == TelegramUser.Alice.Id, Timeout);
        var completion = Assert.Single(fixture.Sensay.Completions, c => c.ReplicaUuid == bot.ReplicaUuid);
        Assert.Equal("What is the meaning of life?", completion.Content);
        Assert.Contains("What is the meaning of life?", reply.Text, StringComparison.Ordinal);
        Assert.Equal(update.MessageId, reply.ReplyToMessageId);
        await Telegram.WaitForConfirmedAsync(bot.Token, update.UpdateId, Timeout);

        var status = await fixture.Grains.GetGrain<IBotGrain>(bot.ReplicaUuid).GetStatusAsync();
        Assert.NotNull(status);
        Assert.Equal(BotStatus.Running, status.Status);
        Assert.Equal(1, status.UpdatesHandled);
        Assert.NotNull(status.Silo);
        Assert.NotNull(status.LastPollAt);
    }

    [Fact]
    public async Task Deleting_a_bot_stops_its_polling()
    {
        var bot = fixture.NewBot();
        var witness = fixture.NewBot();
        await fixture.Orchestrator.CreateBotAsync(bot);
        await fixture.Orchestrator.CreateBotAsync(witness);
        await Telegram.WaitForPendingPollAsync(bot.Token, Timeout);

        Assert.True(await fixture.Orchestrator.DeleteBotAsync(bot.ReplicaUuid));

        await Telegram.WaitUntilAsync(t => t.PendingPollCount(bot.Token) == 0, "the deleted bot's poll to end", Timeout);
        var polls = Telegram.CallCount(bot.Token, "getUpdates");
        // Let time pass observably: the witness bot completes two more long polls meanwhile.
        var witnessPolls = Telegram.CallCount(witness.Token, "getUpdates");
        await Telegram.WaitUntilAsync(t => t.CallCount(witness.Token, "getUpdates") >= witnessPolls + 2, "two more polls of another bot", Timeout);
        Assert.Equal(polls, Telegram.CallCount(bot.Token, "getUpdates"));
        Assert.Null(await fixture.Grains.GetGrain<IBotGrain>(bot.ReplicaUuid).GetStatusAsync());
        Assert.False(await fixture.Orchestrator.DeleteBotAsync(bot.ReplicaUuid));
        await fixture.Orchestrator.DeleteBotAsync(witness.ReplicaUuid);
    }

    [Fact]
    public async Task Creating_an_existing_bot_is_refused_and_leaves_one_poller()
    {
        var bot = fixture.NewBot();
        Assert.Equal(CreateBotResult.Created, await fixture.Orchestrator.CreateBotAsync(bot));
        Assert.Equal(CreateBotResult.AlreadyExists, await fixture.Orchestrator.CreateBotAsync(bot with { ReplicaSlug = "other" }));
        await Telegram.WaitForPendingPollAsync(bot.Token, Timeout);

        Telegram.SendPrivateText(bot.Token, "hello");
        await Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);
        Assert.Equal(0, Telegram.ConflictCountFor(bot.Token));
        await fixture.Orchestrator.DeleteBotAsync(bot.ReplicaUuid);
    }

    [Fact]
    public async Task A_token_change_stops_the_old_poller_before_the_new_one_starts()
    {
        var bot = fixture.NewBot();
        var replacement = fixture.NewBot();
        await fixture.Orchestrator.CreateBotAsync(bot);
        await Telegram.WaitForPendingPollAsync(bot.Token, Timeout);

        Assert.Equal(UpdateBotResult.Updated, await fixture.Orchestrator.UpdateBotAsync(bot.ReplicaUuid, new BotPatch(null, null, replacement.Token)));

        // The emulator notices a cancelled long poll a moment after the client gave up on it; what the grain controls
        // is that the old token made no call once the new token started.
        await Telegram.WaitUntilAsync(t => t.PendingPollCount(bot.Token) == 0, "the old token's poll to end", Timeout);
        await Telegram.WaitForPendingPollAsync(replacement.Token, Timeout);
        Assert.True(
            Telegram.Calls(bot.Token)[^1].Sequence < Telegram.Calls(replacement.Token)[0].Sequence,
            "the old token's last call precedes the new token's first call");
        Telegram.SendPrivateText(replacement.Token, "new token");
        var reply = await Telegram.WaitForSentMessageAsync(replacement.Token, timeout: Timeout);
        Assert.Contains("new token", reply.Text, StringComparison.Ordinal);
        var status = await fixture.Grains.GetGrain<IBotGrain>(bot.ReplicaUuid).GetStatusAsync();
        Assert.Equal(1, status!.Restarts);
        await fixture.Orchestrator.DeleteBotAsync(bot.ReplicaUuid);
    }
}

using Orchestrator.Abstractions;
using Orchestrator.Fakes.Sensay;
using Orchestrator.Fakes.Telegram;

namespace Orchestrator.Tests.Grains;

/// <summary>Order within a chat, concurrency across chats, offset confirmation and redelivery: nothing lost, nothing twice.</summary>
public sealed partial class ConversationTests
{
    [Fact]
    public async Task Messages_of_one_chat_are_answered_in_order_under_a_slow_first_completion()
    {
        await using var bot = await StartBotAsync();
        using var _ = HoldCompletions(bot, heldContent: "one", out var release);

        Telegram.SendPrivateText(bot.Token, "one");
        await Sensay.WaitForCompletionAsync(c => c.ReplicaUuid == bot.ReplicaUuid && c.Content == "one", Timeout);
        var two = Telegram.SendPrivateText(bot.Token, "two");
        await WaitForPollsAfterAsync(bot, two.Sequence, "the bot to receive the second message");

        // "two" waits behind "one": not even asked upstream yet.
        Assert.DoesNotContain(bot.Completions(), c => c.Content == "two");
        Assert.Empty(Telegram.SentMessages(bot.Token));
        release.SetResult();

        var replies = await Telegram.WaitForSentMessagesAsync(bot.Token, 2, timeout: Timeout);
        Assert.Equal(new[] { "Echo: one", "Echo: two" }, replies.Select(r => r.Text));
    }

    [Fact]
    public async Task Slow_completion_in_one_chat_does_not_delay_another_chat()
    {
        await using var bot = await StartBotAsync();
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var _ = UseCompletions(bot, async (request, ct) =>
        {
            if (request.Content == "slow")
            {
                // Blocks for up to 10 s; released by the test once the other chat is answered.
                await release.Task.WaitAsync(TimeSpan.FromSeconds(10), ct);
            }

            return $"Echo: {request.Content}";
        });

        Telegram.SendPrivateText(bot.Token, "slow", TelegramUser.Alice);
        await Sensay.WaitForCompletionAsync(c => c.ReplicaUuid == bot.ReplicaUuid && c.Content == "slow", Timeout);
        Telegram.SendPrivateText(bot.Token, "quick", TelegramUser.Bob);

        var quick = await Telegram.WaitForSentMessageAsync(bot.Token, m => m.ChatId == TelegramUser.Bob.Id, Timeout);
        Assert.Equal("Echo: quick", quick.Text);
        Assert.False(release.Task.IsCompleted);
        Assert.DoesNotContain(Telegram.SentMessages(bot.Token), m => m.ChatId == TelegramUser.Alice.Id);
        release.SetResult();

        var slow = await Telegram.WaitForSentMessageAsync(bot.Token, m => m.ChatId == TelegramUser.Alice.Id, Timeout);
        Assert.Equal("Echo: slow", slow.Text);
        Assert.True(slow.Sequence > quick.Sequence);
    }

    [Fact]
    public async Task Offset_is_confirmed_only_once_the_earlier_update_of_another_chat_is_handled()
    {
        await using var bot = await StartBotAsync();
        using var _ = HoldCompletions(bot, heldContent: "earlier", out var release);

        var earlier = Telegram.SendPrivateText(bot.Token, "earlier", TelegramUser.Alice);
        await Sensay.WaitForCompletionAsync(c => c.ReplicaUuid == bot.ReplicaUuid && c.Content == "earlier", Timeout);
        var later = Telegram.SendPrivateText(bot.Token, "later", TelegramUser.Bob);
        var laterReply = await Telegram.WaitForSentMessageAsync(bot.Token, m => m.ChatId == TelegramUser.Bob.Id, Timeout);
        // Polls made after the later update was handled still leave the earlier one (and so the later one) unconfirmed;
        // each of them delivers the later update again, which must not be answered again.
        await WaitForPollsAfterAsync(bot, laterReply.Sequence, "polls after the later update was answered");

        Assert.True(Telegram.IsUnconfirmed(bot.Token, earlier.UpdateId), "the earlier update, still in flight, is unconfirmed");
        Assert.True(Telegram.IsUnconfirmed(bot.Token, later.UpdateId), "an offset past the earlier update would confirm it");
        release.SetResult();

        await Telegram.WaitForConfirmedAsync(bot.Token, later.UpdateId, Timeout);
        Assert.False(Telegram.IsUnconfirmed(bot.Token, earlier.UpdateId));
        var sent = Telegram.SentMessages(bot.Token);
        Assert.Equal("Echo: earlier", Assert.Single(sent, m => m.ChatId == TelegramUser.Alice.Id).Text);
        Assert.Equal("Echo: later", Assert.Single(sent, m => m.ChatId == TelegramUser.Bob.Id).Text);
        var status = await fixture.Grains.GetGrain<IBotGrain>(bot.ReplicaUuid).GetStatusAsync();
        Assert.Equal(2, status?.UpdatesHandled);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Update_redelivered_after_a_restart_is_answered_exactly_once(bool deleteAndCreateAgain)
    {
        await using var bot = await StartBotAsync();
        var earlierAttempts = 0;
        using var _ = UseCompletions(bot, async (request, ct) =>
        {
            if (request.Content == "earlier" && Interlocked.Increment(ref earlierAttempts) == 1)
            {
                // The first attempt hangs until the stopping bot gives up on it.
                await Task.Delay(System.Threading.Timeout.InfiniteTimeSpan, ct);
            }

            return $"Echo: {request.Content}";
        });

        var earlier = Telegram.SendPrivateText(bot.Token, "earlier", TelegramUser.Alice);
        await Sensay.WaitForCompletionAsync(c => c.ReplicaUuid == bot.ReplicaUuid && c.Content == "earlier", Timeout);
        var later = Telegram.SendPrivateText(bot.Token, "later", TelegramUser.Bob);
        var laterReply = await Telegram.WaitForSentMessageAsync(bot.Token, m => m.ChatId == TelegramUser.Bob.Id, Timeout);
        await WaitForPollsAfterAsync(bot, laterReply.Sequence, "polls after the later update was answered");
        Assert.True(Telegram.IsUnconfirmed(bot.Token, earlier.UpdateId));
        Assert.True(Telegram.IsUnconfirmed(bot.Token, later.UpdateId));

        // A new slug, or deleting and creating the bot again, restarts it with the same replica and token: the
        // in-flight "earlier" is cut short after the graceful timeout, and the new run gets both updates again.
        var beforeRestart = Telegram.Calls(bot.Token)[^1].Sequence;
        if (deleteAndCreateAgain)
        {
            Assert.True(await fixture.Orchestrator.DeleteBotAsync(bot.ReplicaUuid));
            Assert.Equal(CreateBotResult.Created, await fixture.Orchestrator.CreateBotAsync(bot.Definition));
        }
        else
        {
            Assert.Equal(UpdateBotResult.Updated, await fixture.Orchestrator.UpdateBotAsync(bot.ReplicaUuid, new BotPatch($"{bot.Definition.ReplicaSlug}-renamed", null, null)));
        }

        var earlierReply = await Telegram.WaitForSentMessageAsync(bot.Token, m => m.ChatId == TelegramUser.Alice.Id, Timeout);
        Assert.Equal("Echo: earlier", earlierReply.Text);
        await Telegram.WaitForConfirmedAsync(bot.Token, later.UpdateId, Timeout);
        Assert.Contains(
            Telegram.Calls(bot.Token),
            c => c.Sequence > beforeRestart && c.Method == "getUpdates" && c.Long("offset") is { } offset && offset <= later.UpdateId && offset > 0);
        var sent = Telegram.SentMessages(bot.Token);
        Assert.Single(sent, m => m.ChatId == TelegramUser.Alice.Id);
        Assert.Single(sent, m => m.ChatId == TelegramUser.Bob.Id);
        Assert.Equal(2, bot.Completions().Count(c => c.Content == "earlier"));
        Assert.Single(bot.Completions(), c => c.Content == "later");
    }

    [Fact]
    public async Task Failed_handling_attempt_leaves_the_update_unconfirmed_and_it_is_retried()
    {
        await using var bot = await StartBotAsync();
        var group = TelegramChat.Group();
        Sensay.InjectFault(SensayRoute.History, new SensayFault { StatusCode = 500 });

        var update = Telegram.SendGroupText(bot.Token, group, "remember this");

        await Telegram.WaitForConfirmedAsync(bot.Token, update.UpdateId, Timeout);
        var attempts = Sensay.Requests.Where(r => r.Route == SensayRoute.History && r.PathAndQuery.Contains(bot.ReplicaUuid, StringComparison.Ordinal)).ToList();
        Assert.Equal(2, attempts.Count);
        Assert.Equal("remember this", Assert.Single(Sensay.HistoryRequests, h => h.ReplicaUuid == bot.ReplicaUuid).Content);
        Assert.Empty(Telegram.SentMessages(bot.Token));
    }

    /// <summary>
    /// Waits for two getUpdates of the bot after <paramref name="sequence"/>: the first delivered everything posted
    /// before it, and the second is made only after the loop dispatched that batch.
    /// </summary>
    private Task WaitForPollsAfterAsync(RunningBot bot, long sequence, string description) =>
        Telegram.WaitUntilAsync(
            t => t.Calls(bot.Token).Count(c => c.Method == "getUpdates" && c.Sequence > sequence) >= 2,
            description,
            Timeout);
}

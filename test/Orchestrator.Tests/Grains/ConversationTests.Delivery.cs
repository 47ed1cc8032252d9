using Orchestrator.Fakes.Sensay;
using Orchestrator.Fakes.Telegram;
using Orchestrator.Telegram;

namespace Orchestrator.Tests.Grains;

/// <summary>How answers reach the user: typing, long answers, markup, the flood limit and failures on either side.</summary>
public sealed partial class ConversationTests
{
    [Fact]
    public async Task Typing_is_shown_at_once_and_repeated_while_a_slow_completion_runs()
    {
        await using var bot = await StartBotAsync();
        using var _ = HoldCompletions(bot, heldContent: null, out var release);

        Telegram.SendPrivateText(bot.Token, "think hard");

        var first = await Telegram.WaitForChatActionAsync(bot.Token, a => a.Action == "typing", Timeout);
        Assert.Equal(TelegramUser.Alice.Id, first.ChatId);
        var second = await Telegram.WaitForChatActionAsync(bot.Token, a => a.Action == "typing" && a.Sequence > first.Sequence, Timeout);
        Assert.Empty(Telegram.SentMessages(bot.Token));
        Assert.InRange(second.Time - first.Time, TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(8));

        release.SetResult();

        var reply = await Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);
        Assert.Equal("Echo: think hard", reply.Text);
        Assert.True(reply.Sequence > second.Sequence);
    }

    [Fact]
    public async Task Long_answer_arrives_in_three_parts_in_order_in_the_topic()
    {
        await using var bot = await StartBotAsync();
        var answer = string.Join(' ', Enumerable.Range(0, 1800).Select(i => $"w{i % 1000:D3}")) + ".";
        Assert.Equal(9000, answer.Length);
        using var _ = UseCompletions(bot, (_, _) => Task.FromResult(answer));
        var forum = TelegramChat.Supergroup(-1002000000002, "Long answers", isForum: true);

        var update = Telegram.SendTopicText(bot.Token, forum, threadId: 3, $"@{bot.Username} tell me everything");

        var parts = await Telegram.WaitForSentMessagesAsync(bot.Token, 3, timeout: Timeout);
        Assert.All(parts, p => Assert.True(p.Text.Length <= MessageSplitter.TelegramMaxLength, $"a part of {p.Text.Length} characters"));
        Assert.Equal(answer, string.Join(' ', parts.Select(p => p.Text)));
        Assert.Equal(parts.OrderBy(p => p.Sequence), parts);
        Assert.All(parts, p => Assert.Equal(3, p.MessageThreadId));
        Assert.All(parts, p => Assert.Equal(forum.Id, p.ChatId));
        Assert.Equal(update.MessageId, parts[0].ReplyToMessageId);
        Assert.Null(parts[1].ReplyToMessageId);
        Assert.Null(parts[2].ReplyToMessageId);
        await Telegram.WaitForConfirmedAsync(bot.Token, update.UpdateId, Timeout);
        Assert.Equal(3, Telegram.SentMessages(bot.Token).Count);
    }

    [Fact]
    public async Task Long_answer_whose_second_part_fails_is_resumed_on_the_retry_without_a_second_completion()
    {
        await using var bot = await StartBotAsync();
        var answer = string.Join(' ', Enumerable.Range(0, 1800).Select(i => $"w{i % 1000:D3}")) + ".";
        using var _ = UseCompletions(bot, (_, _) => Task.FromResult(answer));
        // The first part goes through, the second meets an error the sender cannot remedy: the attempt fails.
        Telegram.InjectFault(bot.Token, "sendMessage", TelegramFault.Delayed(TimeSpan.Zero));
        Telegram.InjectFault(bot.Token, "sendMessage", TelegramFault.BadRequest("Bad Request: something unexpected"));

        var update = Telegram.SendPrivateText(bot.Token, "tell me everything");

        await Telegram.WaitForConfirmedAsync(bot.Token, update.UpdateId, Timeout);
        var parts = Telegram.SentMessages(bot.Token);
        Assert.Equal(3, parts.Count);
        Assert.Equal(answer, string.Join(' ', parts.Select(p => p.Text)));
        Assert.Equal(parts.OrderBy(p => p.Sequence), parts);
        Assert.Equal(update.MessageId, parts[0].ReplyToMessageId);
        Assert.Null(parts[1].ReplyToMessageId);
        Assert.Equal(4, Telegram.CallCount(bot.Token, "sendMessage"));
        Assert.Single(bot.Completions());
    }

    [Fact]
    public async Task Answer_with_unbalanced_markdown_is_delivered_as_plain_text()
    {
        await using var bot = await StartBotAsync();
        const string answer = "Use *bold for emphasis and snake_case names";
        using var _ = UseCompletions(bot, (_, _) => Task.FromResult(answer));

        Telegram.SendPrivateText(bot.Token, "formatting?");

        var reply = await Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);
        Assert.Equal(answer, reply.Text);
        Assert.Null(reply.ParseMode);
        var attempts = Telegram.Calls(bot.Token).Where(c => c.Method == "sendMessage").ToList();
        Assert.Equal(2, attempts.Count);
        Assert.Equal("Markdown", attempts[0].Parameters["parse_mode"]?.GetValue<string>());
    }

    [Fact]
    public async Task Eleven_quick_messages_get_ten_answers_and_one_slow_down_and_the_twelfth_is_skipped()
    {
        await using var bot = await StartBotAsync();

        var updates = Enumerable.Range(1, 12).Select(i => Telegram.SendPrivateText(bot.Token, $"message {i}")).ToList();

        await Telegram.WaitForConfirmedAsync(bot.Token, updates[^1].UpdateId, Timeout);
        var sent = Telegram.SentMessages(bot.Token);
        Assert.Equal(
            Enumerable.Range(1, 10).Select(i => $"Echo: message {i}").Append(ConversationTexts.SlowDown),
            sent.Select(m => m.Text));
        Assert.Equal(updates[10].MessageId, sent[10].ReplyToMessageId);
        Assert.Equal(10, bot.Completions().Count);
    }

    [Theory]
    [InlineData("HTTP 500")]
    [InlineData("empty content")]
    [InlineData("timeout")]
    public async Task Sensay_failure_gets_an_apology_with_an_error_id_and_the_bot_keeps_answering(string failure)
    {
        await using var bot = await StartBotAsync();
        Sensay.InjectFault(SensayRoute.Completion, failure switch
        {
            "HTTP 500" => new SensayFault { StatusCode = 500 },
            "empty content" => new SensayFault { EmptyContent = true },
            // Hangs past the fixture's Sensay request timeout.
            _ => new SensayFault { Hang = true },
        });

        var update = Telegram.SendPrivateText(bot.Token, "are you there?");

        var apology = await Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);
        Assert.StartsWith("Sorry, something went wrong", apology.Text, StringComparison.Ordinal);
        Assert.NotEmpty(ErrorIdOf(apology.Text));
        Assert.Equal(update.MessageId, apology.ReplyToMessageId);
        await Telegram.WaitForConfirmedAsync(bot.Token, update.UpdateId, Timeout);

        Telegram.SendPrivateText(bot.Token, "and now?");
        var reply = await Telegram.WaitForSentMessageAsync(bot.Token, m => m.Sequence > apology.Sequence, Timeout);
        Assert.Equal("Echo: and now?", reply.Text);
        // A completion that may have reached Sensay is never sent twice.
        Assert.Equal(2, Sensay.Requests.Count(r => r.Route == SensayRoute.Completion && r.PathAndQuery.Contains(bot.ReplicaUuid, StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Rate_limited_answer_is_delivered_after_retry_after_and_the_chat_order_is_kept()
    {
        await using var bot = await StartBotAsync();
        Telegram.InjectFault(bot.Token, "sendMessage", TelegramFault.TooManyRequests(retryAfter: 1));

        Telegram.SendPrivateText(bot.Token, "first");
        Telegram.SendPrivateText(bot.Token, "second");

        var replies = await Telegram.WaitForSentMessagesAsync(bot.Token, 2, timeout: Timeout);
        Assert.Equal(new[] { "Echo: first", "Echo: second" }, replies.Select(r => r.Text));
        var attempts = Telegram.Calls(bot.Token).Where(c => c.Method == "sendMessage").ToList();
        Assert.Equal(3, attempts.Count);
        Assert.Equal("Echo: first", attempts[0].Parameters["text"]?.GetValue<string>());
        Assert.True(replies[0].Time - attempts[0].Time >= TimeSpan.FromSeconds(0.9), "the retry waited retry_after");
    }

    [Fact]
    public async Task Answer_refused_with_403_is_dropped_the_update_confirmed_and_the_bot_keeps_running()
    {
        await using var bot = await StartBotAsync();
        Telegram.InjectFault(bot.Token, "sendMessage", TelegramFault.Forbidden());

        var blocked = Telegram.SendPrivateText(bot.Token, "you are blocked");

        await Telegram.WaitForConfirmedAsync(bot.Token, blocked.UpdateId, Timeout);
        Assert.Empty(Telegram.SentMessages(bot.Token));
        Assert.Equal(1, Telegram.CallCount(bot.Token, "sendMessage"));

        Telegram.SendPrivateText(bot.Token, "unblocked");
        var reply = await Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);
        Assert.Equal("Echo: unblocked", reply.Text);
        Assert.Equal(2, bot.Completions().Count);
    }

    [Fact]
    public async Task Answer_to_a_vanished_topic_is_resent_without_the_thread()
    {
        await using var bot = await StartBotAsync();
        var forum = TelegramChat.Supergroup(-1002000000003, "Vanishing topics", isForum: true);
        Telegram.InjectFault(bot.Token, "sendMessage", TelegramFault.BadRequest("Bad Request: message thread not found"));

        var update = Telegram.SendTopicText(bot.Token, forum, threadId: 9, $"@{bot.Username} still there?");

        var reply = await Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);
        Assert.Equal("Echo: still there?", reply.Text);
        Assert.Equal(forum.Id, reply.ChatId);
        Assert.Null(reply.MessageThreadId);
        Assert.Equal(update.MessageId, reply.ReplyToMessageId);
        var attempts = Telegram.Calls(bot.Token).Where(c => c.Method == "sendMessage").ToList();
        Assert.Equal(2, attempts.Count);
        Assert.Equal(9, attempts[0].Parameters["message_thread_id"]?.GetValue<int>());
    }

    [Fact]
    public async Task Answer_to_a_migrated_group_goes_to_the_new_supergroup()
    {
        await using var bot = await StartBotAsync();
        var group = TelegramChat.Group(-4002, "About to migrate");
        const long supergroupId = -1002000000004;
        Telegram.InjectFault(bot.Token, "sendMessage", TelegramFault.Migrated(supergroupId));

        Telegram.SendMention(bot.Token, group, "where are we?");

        var reply = await Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);
        Assert.Equal("Echo: where are we?", reply.Text);
        Assert.Equal(supergroupId, reply.ChatId);
        // Message ids belong to the old chat.
        Assert.Null(reply.ReplyToMessageId);
    }
}

using System.Diagnostics;
using System.Net;
using Orchestrator.Fakes.Telegram;
using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace Orchestrator.Tests.Fakes;

public sealed class TelegramEmulatorTests
{
    private const string Token = "1001:secret-one";
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(30) };

    private static TelegramBotClient Client(TelegramEmulator emulator, string token = Token) =>
        new(new TelegramBotClientOptions(token, emulator.BaseUrl.ToString()) { RetryThreshold = 0 }, Http);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task GetMe_gives_each_token_its_own_identity()
    {
        await using var emulator = await TelegramEmulator.StartAsync(cancellationToken: Ct);
        emulator.AddBot("2002:other", "ada_replica_bot");

        var first = await Client(emulator).GetMe(Ct);
        var second = await Client(emulator, "2002:other").GetMe(Ct);

        Assert.Equal((1001L, true, "bot1001_bot"), (first.Id, first.IsBot, first.Username));
        Assert.Equal((2002L, "ada_replica_bot"), (second.Id, second.Username));
        Assert.Equal(1, emulator.CallCount(Token, "getMe"));
        Assert.Equal(1, emulator.CallCount(Token, "GETME"));
    }

    [Fact]
    public async Task Long_poll_wakes_on_a_user_message_and_returns_it()
    {
        await using var emulator = await TelegramEmulator.StartAsync(cancellationToken: Ct);
        var bot = Client(emulator);

        var poll = bot.GetUpdates(timeout: 20, allowedUpdates: [UpdateType.Message], cancellationToken: Ct);
        await emulator.WaitForPendingPollAsync(Token, cancellationToken: Ct);
        Assert.False(poll.IsCompleted);
        var posted = emulator.SendPrivateText(Token, "hello");

        var updates = await poll.WaitAsync(TimeSpan.FromSeconds(5), Ct);
        var update = Assert.Single(updates);
        Assert.Equal(posted.UpdateId, update.Id);
        Assert.Equal(("hello", 42L, ChatType.Private, "alice"), (update.Message!.Text, update.Message.Chat.Id, update.Message.Chat.Type, update.Message.From!.Username));
        Assert.Equal(posted.MessageId, update.Message.Id);
    }

    [Fact]
    public async Task Offset_confirms_and_limit_and_negative_offset_are_honoured()
    {
        await using var emulator = await TelegramEmulator.StartAsync(cancellationToken: Ct);
        var bot = Client(emulator);
        var ids = Enumerable.Range(1, 4).Select(i => emulator.SendPrivateText(Token, $"m{i}").UpdateId).ToArray();
        Assert.True(ids.SequenceEqual(ids.Order()) && ids.Distinct().Count() == 4);

        var limited = await bot.GetUpdates(limit: 2, cancellationToken: Ct);
        Assert.Equal(ids[..2], limited.Select(u => u.Id));

        var again = await bot.GetUpdates(offset: ids[0] + 1, cancellationToken: Ct);
        Assert.Equal(ids[1..], again.Select(u => u.Id));
        Assert.Equal(ids[0] + 1, emulator.ConfirmedOffset(Token));
        Assert.False(emulator.IsUnconfirmed(Token, ids[0]));
        Assert.True(emulator.IsUnconfirmed(Token, ids[1]));

        var last = await bot.GetUpdates(offset: -1, cancellationToken: Ct);
        Assert.Equal(ids[3], Assert.Single(last).Id);
        Assert.Equal(1, emulator.PendingUpdateCount(Token));

        Assert.Empty(await bot.GetUpdates(offset: ids[3] + 1, cancellationToken: Ct));
        Assert.Equal(0, emulator.PendingUpdateCount(Token));
    }

    [Fact]
    public async Task A_newer_poll_terminates_the_older_with_409()
    {
        await using var emulator = await TelegramEmulator.StartAsync(cancellationToken: Ct);
        var older = Client(emulator).GetUpdates(timeout: 20, cancellationToken: Ct);
        await emulator.WaitForPendingPollAsync(Token, cancellationToken: Ct);
        var newer = Client(emulator).GetUpdates(timeout: 20, cancellationToken: Ct);

        var conflict = await Assert.ThrowsAsync<ApiRequestException>(() => older);
        Assert.Equal(409, conflict.ErrorCode);
        Assert.StartsWith("Conflict: terminated by other getUpdates request", conflict.Message, StringComparison.Ordinal);
        Assert.Equal(1, emulator.ConflictCount);
        Assert.Equal(1, emulator.ConflictCountFor(Token));

        await emulator.WaitForPendingPollAsync(Token, cancellationToken: Ct);
        emulator.SendPrivateText(Token, "for the newer one");
        Assert.Single(await newer.WaitAsync(TimeSpan.FromSeconds(5), Ct));
    }

    [Fact]
    public async Task SendMessage_returns_a_full_message_and_records_it()
    {
        await using var emulator = await TelegramEmulator.StartAsync(cancellationToken: Ct);
        var forum = TelegramChat.Supergroup(isForum: true);
        var incoming = emulator.SendTopicText(Token, forum, 5, "question");

        var sent = await Client(emulator).SendMessage(
            forum.Id,
            "answer",
            messageThreadId: 5,
            replyParameters: new ReplyParameters { MessageId = incoming.MessageId, AllowSendingWithoutReply = true },
            cancellationToken: Ct);

        Assert.InRange(sent.Date, DateTime.UtcNow.AddMinutes(-1), DateTime.UtcNow.AddMinutes(1));
        Assert.Equal((1001L, true), (sent.From!.Id, sent.From.IsBot));
        Assert.Equal((forum.Id, ChatType.Supergroup, 5, "answer"), (sent.Chat.Id, sent.Chat.Type, sent.MessageThreadId, sent.Text));
        Assert.Equal(incoming.MessageId, sent.ReplyToMessage!.Id);

        var recorded = await emulator.WaitForSentMessageAsync(Token, m => m.Text == "answer", TimeSpan.FromSeconds(5), Ct);
        Assert.Equal((forum.Id, 5, incoming.MessageId, sent.Id), (recorded.ChatId, recorded.MessageThreadId, recorded.ReplyToMessageId, recorded.MessageId));
    }

    [Fact]
    public async Task SendMessage_rejects_empty_too_long_and_unparsable_text()
    {
        await using var emulator = await TelegramEmulator.StartAsync(cancellationToken: Ct);
        var bot = Client(emulator);

        var empty = await Assert.ThrowsAsync<ApiRequestException>(() => bot.SendMessage(42, " ", cancellationToken: Ct));
        var tooLong = await Assert.ThrowsAsync<ApiRequestException>(() => bot.SendMessage(42, new string('a', 4097), cancellationToken: Ct));
        var markdown = await Assert.ThrowsAsync<ApiRequestException>(() => bot.SendMessage(42, "é *bold", ParseMode.Markdown, cancellationToken: Ct));

        Assert.Equal((400, "Bad Request: message text is empty"), (empty.ErrorCode, empty.Message));
        Assert.Equal((400, "Bad Request: message is too long"), (tooLong.ErrorCode, tooLong.Message));
        Assert.Equal("Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 3", markdown.Message);
        await bot.SendMessage(42, new string('a', 4096), cancellationToken: Ct);
        Assert.Single(emulator.SentMessages(Token));
    }

    [Fact]
    public async Task Faults_surface_as_Telegram_Bot_exceptions_and_getUpdates_faults_consume_nothing()
    {
        await using var emulator = await TelegramEmulator.StartAsync(cancellationToken: Ct);
        var bot = Client(emulator);
        emulator.InjectFault(Token, "sendMessage", TelegramFault.TooManyRequests(7));
        emulator.InjectFault(Token, "sendMessage", TelegramFault.HtmlBadGateway());
        emulator.InjectFault(Token, "getUpdates", TelegramFault.ServerError());
        var posted = emulator.SendPrivateText(Token, "keep me");

        var tooMany = await Assert.ThrowsAsync<ApiRequestException>(() => bot.SendMessage(42, "x", cancellationToken: Ct));
        Assert.Equal((429, 7), (tooMany.ErrorCode, tooMany.Parameters?.RetryAfter));
        var badGateway = await Assert.ThrowsAsync<RequestException>(() => bot.SendMessage(42, "x", cancellationToken: Ct));
        Assert.IsNotType<ApiRequestException>(badGateway);
        Assert.Equal(HttpStatusCode.BadGateway, badGateway.HttpStatusCode);
        var serverError = await Assert.ThrowsAsync<ApiRequestException>(() => bot.GetUpdates(cancellationToken: Ct));
        Assert.Equal(500, serverError.ErrorCode);

        Assert.Equal(posted.UpdateId, Assert.Single(await bot.GetUpdates(cancellationToken: Ct)).Id);
        await bot.SendMessage(42, "fine now", cancellationToken: Ct);
        Assert.Equal(3, emulator.CallCount(Token, "sendMessage"));
        Assert.Equal(2, emulator.CallCount(Token, "getUpdates"));
    }

    [Fact]
    public async Task Dropped_connection_and_hung_request_behave_like_a_broken_network()
    {
        await using var emulator = await TelegramEmulator.StartAsync(cancellationToken: Ct);
        var bot = Client(emulator);
        emulator.InjectFault(Token, null, TelegramFault.Dropped());
        emulator.InjectFault(Token, "getMe", TelegramFault.Hung());

        var dropped = await Assert.ThrowsAsync<RequestException>(() => bot.SendChatAction(42, ChatAction.Typing, cancellationToken: Ct));
        Assert.IsType<HttpRequestException>(dropped.InnerException);

        using var giveUp = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var hung = bot.GetMe(giveUp.Token);
        await emulator.WaitForCallAsync(Token, "getMe", cancellationToken: Ct);
        Assert.False(hung.IsCompleted);
        await giveUp.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => hung);

        Assert.Equal(1001, (await bot.GetMe(Ct)).Id);
    }

    [Fact]
    public async Task Dispose_ends_hung_requests_and_long_polls_promptly()
    {
        var emulator = await TelegramEmulator.StartAsync(cancellationToken: Ct);
        var bot = Client(emulator);
        emulator.InjectFault(Token, "getMe", TelegramFault.Hung());
        var hung = bot.GetMe(Ct);
        var poll = Client(emulator, "3003:third").GetUpdates(timeout: 50, cancellationToken: Ct);
        await emulator.WaitForPendingPollAsync("3003:third", cancellationToken: Ct);
        await emulator.WaitForCallAsync(Token, "getMe", cancellationToken: Ct);

        var clock = Stopwatch.StartNew();
        await emulator.DisposeAsync();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(2), $"dispose took {clock.Elapsed}");
        await Assert.ThrowsAsync<RequestException>(() => hung);
        await Assert.ThrowsAsync<RequestException>(() => poll);
    }

    [Fact]
    public async Task Long_poll_ends_when_the_client_disconnects()
    {
        await using var emulator = await TelegramEmulator.StartAsync(cancellationToken: Ct);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var poll = Client(emulator).GetUpdates(timeout: 50, cancellationToken: cancel.Token);
        await emulator.WaitForPendingPollAsync(Token, cancellationToken: Ct);

        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => poll);
        await emulator.WaitUntilAsync(e => e.PendingPollCount(Token) == 0, "the server side of the poll to end", TimeSpan.FromSeconds(5), Ct);
    }

    [Fact]
    public async Task Revoked_token_gets_401_and_unknown_tokens_too_without_auto_registration()
    {
        await using var emulator = await TelegramEmulator.StartAsync(new TelegramEmulatorOptions { AutoRegisterTokens = false }, Ct);
        emulator.AddBot(Token);
        var bot = Client(emulator);
        Assert.Equal(1001, (await bot.GetMe(Ct)).Id);

        var unknown = await Assert.ThrowsAsync<ApiRequestException>(() => Client(emulator, "4004:nobody").GetMe(Ct));
        emulator.RevokeToken(Token);
        var revoked = await Assert.ThrowsAsync<ApiRequestException>(() => bot.GetMe(Ct));

        Assert.Equal((401, "Unauthorized"), (unknown.ErrorCode, unknown.Message));
        Assert.Equal(401, revoked.ErrorCode);
        Assert.Equal(2, emulator.CallCount(Token, "getMe"));
    }

    [Fact]
    public async Task User_side_builds_mentions_topics_replies_photos_and_service_messages()
    {
        await using var emulator = await TelegramEmulator.StartAsync(cancellationToken: Ct);
        var bot = Client(emulator);
        var group = TelegramChat.Supergroup();
        emulator.SendMention(Token, group, "hi there");
        var botMessage = await bot.SendMessage(group.Id, "I am here", cancellationToken: Ct);
        var recorded = await emulator.WaitForSentMessageAsync(Token, m => m.MessageId == botMessage.Id, cancellationToken: Ct);
        emulator.SendReplyToBot(Token, recorded, "and a reply");
        emulator.SendPhoto(Token, "look @bot1001_bot");
        emulator.SendNewChatMembers(Token, group, TelegramUser.Bob);
        emulator.SendUserMessage(Token, new UserMessage { Chat = group, From = TelegramUser.OtherBot, Text = "beep" });
        await bot.SendChatAction(group.Id, ChatAction.Typing, messageThreadId: 9, cancellationToken: Ct);

        var updates = await bot.GetUpdates(cancellationToken: Ct);

        var mention = updates[0].Message!;
        Assert.Equal("@bot1001_bot hi there", mention.Text);
        var entity = Assert.Single(mention.Entities!);
        Assert.Equal((MessageEntityType.Mention, 0, 12), (entity.Type, entity.Offset, entity.Length));
        Assert.Equal((1001L, "I am here"), (updates[1].Message!.ReplyToMessage!.From!.Id, updates[1].Message!.ReplyToMessage!.Text));
        var photo = updates[2].Message!;
        Assert.Equal(("look @bot1001_bot", MessageEntityType.Mention), (photo.Caption, Assert.Single(photo.CaptionEntities!).Type));
        var file = await bot.GetFile(photo.Photo![^1].FileId, Ct);
        Assert.False(string.IsNullOrEmpty(file.FilePath));
        Assert.Equal(TelegramUser.Bob.Id, Assert.Single(updates[3].Message!.NewChatMembers!).Id);
        Assert.Null(updates[3].Message!.Text);
        Assert.True(updates[4].Message!.From!.IsBot);
        var action = await emulator.WaitForChatActionAsync(Token, a => a.ChatId == group.Id, cancellationToken: Ct);
        Assert.Equal(("typing", 9), (action.Action, action.MessageThreadId));
    }

    [Fact]
    public async Task Forum_topic_messages_carry_thread_and_topic_flags()
    {
        await using var emulator = await TelegramEmulator.StartAsync(new TelegramEmulatorOptions { RequireThreadExists = true }, Ct);
        var bot = Client(emulator);
        var forum = TelegramChat.Supergroup(isForum: true);
        var thread = emulator.CreateForumTopic(Token, forum, "Support");
        emulator.SendTopicText(Token, forum, thread, "in the topic");

        var updates = await bot.GetUpdates(cancellationToken: Ct);
        var message = updates[1].Message!;
        Assert.Equal((true, thread, true), (message.IsTopicMessage, message.MessageThreadId, message.Chat.IsForum));
        Assert.NotNull(updates[0].Message!.ForumTopicCreated);

        var missing = await Assert.ThrowsAsync<ApiRequestException>(() => bot.SendMessage(forum.Id, "x", messageThreadId: thread + 100, cancellationToken: Ct));
        Assert.Equal("Bad Request: message thread not found", missing.Message);
    }
}

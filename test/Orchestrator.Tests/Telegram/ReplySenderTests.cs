using Orchestrator.Telegram;
using Telegram.Bot;
using Telegram.Bot.Types.Enums;

namespace Orchestrator.Tests.Telegram;

public sealed class ReplySenderTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private readonly InstantTimeProvider _time = new();

    private static ITelegramBotClient Client(StubHttpHandler handler) =>
        new TelegramBotClient(new TelegramBotClientOptions(Tg.Token, "http://telegram.test") { RetryThreshold = 0 }, new HttpClient(handler));

    private static string TwoParts() => new string('a', 4000) + " " + new string('b', 200);

    [Fact]
    public async Task Single_part_replies_to_the_message_in_its_thread()
    {
        var handler = new StubHttpHandler((_, i) => Tg.SentMessage(100 + i));
        var sender = new ReplySender(Client(handler), _time);

        var outcome = await sender.SendReplyAsync(42, "hello", replyToMessageId: 7, threadId: 3, cancellationToken: Ct);

        Assert.Equal(ReplyStatus.Sent, outcome.Status);
        Assert.Equal([100], outcome.MessageIds);
        var body = Assert.Single(handler.Sent).Json;
        Assert.Equal("sendMessage", handler.Sent[0].BotMethod);
        Assert.Equal("hello", (string?)body["text"]);
        Assert.Equal(3, (int?)body["message_thread_id"]);
        Assert.Equal(7, (int?)body["reply_parameters"]?["message_id"]);
        Assert.True((bool?)body["reply_parameters"]?["allow_sending_without_reply"]);
    }

    [Fact]
    public async Task Later_parts_stay_in_the_thread_without_replying()
    {
        var handler = new StubHttpHandler((_, i) => Tg.SentMessage(100 + i));
        var sender = new ReplySender(Client(handler), _time);

        var outcome = await sender.SendReplyAsync(42, TwoParts(), replyToMessageId: 7, threadId: 3, cancellationToken: Ct);

        Assert.Equal([100, 101], outcome.MessageIds);
        var second = handler.Sent[1].Json;
        Assert.Null(second["reply_parameters"]);
        Assert.Equal(3, (int?)second["message_thread_id"]);
        Assert.StartsWith("bbb", (string?)second["text"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resumed_reply_sends_only_the_parts_after_the_first_unsent_one()
    {
        var handler = new StubHttpHandler((_, i) => Tg.SentMessage(100 + i));
        var sender = new ReplySender(Client(handler), _time);

        var outcome = await sender.SendReplyAsync(42, TwoParts(), replyToMessageId: 7, threadId: 3, firstPart: 1, cancellationToken: Ct);

        Assert.Equal(ReplyStatus.Sent, outcome.Status);
        Assert.Equal([100], outcome.MessageIds);
        var body = Assert.Single(handler.Sent).Json;
        Assert.StartsWith("bbb", (string?)body["text"], StringComparison.Ordinal);
        Assert.Null(body["reply_parameters"]);
        Assert.Equal(3, (int?)body["message_thread_id"]);
    }

    [Fact]
    public async Task Rate_limit_waits_retry_after_and_resends_the_same_part_in_order()
    {
        var handler = new StubHttpHandler((_, i) => i == 0
            ? Tg.Error(429, "Too Many Requests: retry after 3", """{"retry_after":3}""")
            : Tg.SentMessage(100 + i));
        var sender = new ReplySender(Client(handler), _time);

        var outcome = await sender.SendReplyAsync(42, TwoParts(), replyToMessageId: 7, cancellationToken: Ct);

        Assert.Equal(ReplyStatus.Sent, outcome.Status);
        Assert.Equal([101, 102], outcome.MessageIds);
        var texts = handler.Sent.Select(r => ((string?)r.Json["text"])![0]).ToList();
        Assert.Equal(['a', 'a', 'b'], texts);
        Assert.Equal(TimeSpan.FromSeconds(3), Assert.Single(_time.Delays));
    }

    [Fact]
    public async Task Forbidden_drops_the_rest_of_the_reply()
    {
        var handler = new StubHttpHandler((_, _) => Tg.Error(403, "Forbidden: bot was blocked by the user"));
        var sender = new ReplySender(Client(handler), _time);

        var outcome = await sender.SendReplyAsync(42, TwoParts(), cancellationToken: Ct);

        Assert.Equal(ReplyStatus.Dropped, outcome.Status);
        Assert.Equal(TelegramErrorKind.Forbidden, outcome.Error?.Kind);
        Assert.Single(handler.Sent);
        Assert.Empty(outcome.MessageIds);
    }

    [Fact]
    public async Task Thread_not_found_is_retried_once_without_the_thread()
    {
        var handler = new StubHttpHandler((r, i) => r.Json["message_thread_id"] is not null
            ? Tg.Error(400, "Bad Request: message thread not found")
            : Tg.SentMessage(100 + i));
        var sender = new ReplySender(Client(handler), _time);

        var outcome = await sender.SendReplyAsync(-100123, TwoParts(), replyToMessageId: 7, threadId: 3, cancellationToken: Ct);

        Assert.Equal(ReplyStatus.Sent, outcome.Status);
        Assert.Equal(3, handler.Sent.Count); // one refusal, then both parts without the thread
        Assert.Equal(7, (int?)handler.Sent[1].Json["reply_parameters"]?["message_id"]);
    }

    [Fact]
    public async Task Replied_message_not_found_is_retried_without_the_reply()
    {
        var handler = new StubHttpHandler((r, i) => r.Json["reply_parameters"] is not null
            ? Tg.Error(400, "Bad Request: message to be replied not found")
            : Tg.SentMessage(100 + i));
        var sender = new ReplySender(Client(handler), _time);

        var outcome = await sender.SendReplyAsync(42, "hi", replyToMessageId: 7, cancellationToken: Ct);

        Assert.Equal(ReplyStatus.Sent, outcome.Status);
        Assert.Equal(2, handler.Sent.Count);
    }

    [Fact]
    public async Task Unparsable_entities_are_resent_as_plain_text()
    {
        var handler = new StubHttpHandler((r, i) => r.Json["parse_mode"] is not null
            ? Tg.Error(400, "Bad Request: can't parse entities: Unsupported start tag")
            : Tg.SentMessage(100 + i));
        var sender = new ReplySender(Client(handler), _time);

        var outcome = await sender.SendReplyAsync(42, "<b>bold", parseMode: ParseMode.Html, cancellationToken: Ct);

        Assert.Equal(ReplyStatus.Sent, outcome.Status);
        Assert.Equal("html", ((string?)handler.Sent[0].Json["parse_mode"])?.ToLowerInvariant());
        Assert.Null(handler.Sent[1].Json["parse_mode"]);
        Assert.Equal("<b>bold", (string?)handler.Sent[1].Json["text"]);
    }

    [Fact]
    public async Task Migrated_group_is_retargeted_and_the_reply_continues()
    {
        var handler = new StubHttpHandler((r, i) => (long?)r.Json["chat_id"] == -123
            ? Tg.Error(400, "Bad Request: group chat was upgraded to a supergroup chat", """{"migrate_to_chat_id":-100999}""")
            : Tg.SentMessage(100 + i, -100999));
        var sender = new ReplySender(Client(handler), _time);

        var outcome = await sender.SendReplyAsync(-123, TwoParts(), replyToMessageId: 7, cancellationToken: Ct);

        Assert.Equal(ReplyStatus.Sent, outcome.Status);
        Assert.Equal(-100999, outcome.ChatId);
        Assert.Equal([-123L, -100999L, -100999L], handler.Sent.Select(r => (long)r.Json["chat_id"]!));
    }

    [Fact]
    public async Task Server_errors_are_retried_with_backoff_then_succeed()
    {
        var handler = new StubHttpHandler((_, i) => i < 3 ? Tg.Error(502, "Bad Gateway") : Tg.SentMessage(100));
        var sender = new ReplySender(Client(handler), _time);

        var outcome = await sender.SendReplyAsync(42, "hi", cancellationToken: Ct);

        Assert.Equal(ReplyStatus.Sent, outcome.Status);
        Assert.Equal([TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4)], _time.Delays);
    }

    [Fact]
    public async Task Persistent_transport_errors_fail_after_a_few_retries()
    {
        var handler = new StubHttpHandler((_, _) => StubHttpHandler.Json(System.Net.HttpStatusCode.BadGateway, "<html>bad gateway</html>"));
        var sender = new ReplySender(Client(handler), _time);

        var outcome = await sender.SendReplyAsync(42, "hi", cancellationToken: Ct);

        Assert.Equal(ReplyStatus.Failed, outcome.Status);
        Assert.Equal(TelegramErrorKind.Transport, outcome.Error?.Kind);
        Assert.Equal(1 + ReplySender.MaxTransientRetries, handler.Sent.Count);
    }

    [Fact]
    public async Task Unknown_bad_request_fails_without_retry()
    {
        var handler = new StubHttpHandler((_, _) => Tg.Error(400, "Bad Request: message is too long"));
        var sender = new ReplySender(Client(handler), _time);

        var outcome = await sender.SendReplyAsync(42, "hi", cancellationToken: Ct);

        Assert.Equal(ReplyStatus.Failed, outcome.Status);
        Assert.Single(handler.Sent);
    }

    [Fact]
    public async Task Cancellation_during_a_rate_limit_wait_throws()
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var handler = new StubHttpHandler((_, _) =>
        {
            cts.Cancel();
            return Tg.Error(429, "Too Many Requests: retry after 30", """{"retry_after":30}""");
        });
        var sender = new ReplySender(Client(handler), TimeProvider.System);

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sender.SendReplyAsync(42, "hi", cancellationToken: cts.Token));
    }
}

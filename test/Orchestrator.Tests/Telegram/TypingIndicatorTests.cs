using Orchestrator.Telegram;
using Telegram.Bot;

namespace Orchestrator.Tests.Telegram;

public sealed class TypingIndicatorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ITelegramBotClient Client(StubHttpHandler handler) =>
        new TelegramBotClient(new TelegramBotClientOptions(Tg.Token, "http://telegram.test") { RetryThreshold = 0 }, new HttpClient(handler));

    [Fact]
    public async Task Typing_is_sent_at_once_and_repeated_every_four_seconds_until_disposed()
    {
        var time = new InstantTimeProvider();
        var thirdAction = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new StubHttpHandler((_, i) =>
        {
            if (i == 2)
            {
                thirdAction.TrySetResult();
            }

            return Tg.True();
        });

        var typing = TypingIndicator.Start(Client(handler), 42, 3, time, Ct);
        await thirdAction.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await typing.DisposeAsync();
        var countAtDispose = handler.Sent.Count;

        var first = handler.Sent[0];
        Assert.Equal("sendChatAction", first.BotMethod);
        Assert.Equal("typing", (string?)first.Json["action"]);
        Assert.Equal(3, (int?)first.Json["message_thread_id"]);
        Assert.All(time.Delays, d => Assert.Equal(TypingIndicator.Interval, d));
        Assert.Equal(countAtDispose, handler.Sent.Count);
    }

    [Fact]
    public async Task Rate_limit_pauses_typing_for_retry_after_and_errors_are_swallowed()
    {
        var time = new InstantTimeProvider();
        var thirdAction = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new StubHttpHandler((_, i) =>
        {
            if (i == 2)
            {
                thirdAction.TrySetResult();
            }

            return i switch
            {
                0 => Tg.Error(429, "Too Many Requests: retry after 9", """{"retry_after":9}"""),
                1 => Tg.Error(500, "Internal Server Error"),
                _ => Tg.True(),
            };
        });

        await using (TypingIndicator.Start(Client(handler), 42, null, time, Ct))
        {
            await thirdAction.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        }

        var delays = time.Delays.ToList();
        Assert.Equal(TimeSpan.FromSeconds(9), delays[0]);
        Assert.Equal(TypingIndicator.Interval, delays[1]);
    }
}

using Microsoft.Extensions.Time.Testing;
using Orchestrator.Telegram;
using Telegram.Bot;

namespace Orchestrator.Tests.Telegram;

public sealed class TypingIndicatorTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ITelegramBotClient Client(HttpMessageHandler handler) =>
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
        // Every wait between actions is the interval (disposing may add its grace for an action in flight).
        Assert.All(time.Delays.Where(d => d != TypingIndicator.InFlightGrace), d => Assert.Equal(TypingIndicator.Interval, d));
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

    [Fact]
    public async Task Disposing_lets_a_chat_action_in_flight_finish_instead_of_cancelling_it()
    {
        var (typing, handler) = await StartWithActionInFlightAsync(new FakeTimeProvider());

        var dispose = typing.DisposeAsync().AsTask();
        Assert.False(dispose.IsCompleted); // waits for the action: no time passed, the grace has not run out
        handler.Release.TrySetResult(Tg.True());
        await dispose.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.False(handler.CancelledInFlight);
        Assert.Equal(1, handler.Count);
    }

    [Fact]
    public async Task Disposing_cancels_a_chat_action_still_in_flight_after_the_grace()
    {
        var time = new GraceWatchingTimeProvider();
        var (typing, handler) = await StartWithActionInFlightAsync(time);

        var dispose = typing.DisposeAsync().AsTask();
        await time.GraceStarted.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.False(dispose.IsCompleted);
        time.Advance(TypingIndicator.InFlightGrace);
        await dispose.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.True(handler.CancelledInFlight);
    }

    /// <summary>Starts an indicator whose first chat action the returned handler holds in flight.</summary>
    private static async Task<(TypingIndicator Typing, HeldHandler Handler)> StartWithActionInFlightAsync(TimeProvider time)
    {
        var handler = new HeldHandler();
        var typing = TypingIndicator.Start(Client(handler), 42, null, time, Ct);
        await handler.Arrived.Task.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        return (typing, handler);
    }

    /// <summary>Holds the first request until released (or cancelled) and tells whether it was cancelled.</summary>
    private sealed class HeldHandler : HttpMessageHandler
    {
        private int _count;

        public TaskCompletionSource Arrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<HttpResponseMessage> Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public bool CancelledInFlight { get; private set; }

        public int Count => _count;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref _count);
            Arrived.TrySetResult();
            try
            {
                var response = await Release.Task.WaitAsync(cancellationToken);
                response.RequestMessage = request;
                return response;
            }
            catch (OperationCanceledException)
            {
                CancelledInFlight = true;
                throw;
            }
        }
    }

    /// <summary>Fake time that tells when the dispose's grace timer starts, so the test advances past it and not before.</summary>
    private sealed class GraceWatchingTimeProvider : FakeTimeProvider
    {
        public TaskCompletionSource GraceStarted { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            var timer = base.CreateTimer(callback, state, dueTime, period);
            if (dueTime == TypingIndicator.InFlightGrace)
            {
                GraceStarted.TrySetResult();
            }

            return timer;
        }
    }
}

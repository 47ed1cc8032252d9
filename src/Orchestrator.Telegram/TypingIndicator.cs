using Telegram.Bot;
using Telegram.Bot.Types.Enums;

namespace Orchestrator.Telegram;

/// <summary>
/// Shows "typing…" in a chat while an answer is being computed: sends the chat action at once and every
/// <see cref="Interval"/> until disposed. Best effort: errors are swallowed, but a 429 pauses it for <c>retry_after</c>.
/// Disposing stops the repetition but lets a chat action already sent finish (only the caller's token cancels it):
/// with a fast answer the first action is usually still in flight, and cancelling it reset an HTTP/2 stream and threw
/// through every layer of the HTTP stack, once per reply. It also keeps the action ahead of the answer.
/// </summary>
public sealed class TypingIndicator : IAsyncDisposable
{
    /// <summary>Time between two chat actions (one lasts about 5 s on the client).</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(4);

    /// <summary>How long disposing waits for a chat action in flight before cancelling it, so the answer never waits long behind it.</summary>
    public static readonly TimeSpan InFlightGrace = TimeSpan.FromSeconds(1);

    private readonly CancellationTokenSource _send;
    private readonly CancellationTokenSource _stop;
    private readonly TimeProvider _time;
    private readonly Task _loop;

    private TypingIndicator(ITelegramBotClient client, long chatId, int? threadId, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        _time = timeProvider;
        _send = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _stop = CancellationTokenSource.CreateLinkedTokenSource(_send.Token);
        _loop = RunAsync(client, chatId, threadId, timeProvider, _stop.Token, _send.Token);
    }

    /// <summary>Starts the indicator; the first chat action is sent before this returns its first await.</summary>
    public static TypingIndicator Start(
        ITelegramBotClient client, long chatId, int? threadId, TimeProvider timeProvider, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(timeProvider);
        return new TypingIndicator(client, chatId, threadId, timeProvider, cancellationToken);
    }

    /// <summary>
    /// Stops sending chat actions and waits for the loop to end: a chat action in flight gets <see cref="InFlightGrace"/>
    /// to finish, then it is cancelled.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        if (!_loop.IsCompleted)
        {
            await _loop.WaitAsync(InFlightGrace, _time).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (!_loop.IsCompleted)
            {
                await _send.CancelAsync().ConfigureAwait(false);
                await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        _stop.Dispose();
        _send.Dispose();
    }

    private static async Task RunAsync(
        ITelegramBotClient client, long chatId, int? threadId, TimeProvider timeProvider, CancellationToken stop, CancellationToken cancellationToken)
    {
        while (!stop.IsCancellationRequested)
        {
            var wait = Interval;
            try
            {
                await client.SendChatAction(chatId, ChatAction.Typing, messageThreadId: threadId, cancellationToken: cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                var error = TelegramErrors.Classify(ex);
                if (error.Kind == TelegramErrorKind.TooManyRequests && error.RetryAfter > wait)
                {
                    wait = error.RetryAfter.Value;
                }
                else if (error.Kind is TelegramErrorKind.Unauthorized or TelegramErrorKind.Forbidden)
                {
                    return; // nothing to show it to
                }
                else if (error.Kind == TelegramErrorKind.BadRequest && error.IsThreadNotFound && threadId is not null)
                {
                    threadId = null;
                }
            }

            // Ended early by a stop; awaited without throwing, as stopping is the normal end.
            await Task.Delay(wait, timeProvider, stop).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}

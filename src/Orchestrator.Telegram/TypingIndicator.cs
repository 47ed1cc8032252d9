using Telegram.Bot;
using Telegram.Bot.Types.Enums;

namespace Orchestrator.Telegram;

/// <summary>
/// Shows "typing…" in a chat while an answer is being computed: sends the chat action at once and every
/// <see cref="Interval"/> until disposed. Best effort: errors are swallowed, but a 429 pauses it for <c>retry_after</c>.
/// </summary>
public sealed class TypingIndicator : IAsyncDisposable
{
    /// <summary>Time between two chat actions (one lasts about 5 s on the client).</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(4);

    private readonly CancellationTokenSource _cts;
    private readonly Task _loop;

    private TypingIndicator(ITelegramBotClient client, long chatId, int? threadId, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        _cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        _loop = RunAsync(client, chatId, threadId, timeProvider, _cts.Token);
    }

    /// <summary>Starts the indicator; the first chat action is sent before this returns its first await.</summary>
    public static TypingIndicator Start(
        ITelegramBotClient client, long chatId, int? threadId, TimeProvider timeProvider, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(timeProvider);
        return new TypingIndicator(client, chatId, threadId, timeProvider, cancellationToken);
    }

    /// <summary>Stops sending chat actions and waits for the loop to end.</summary>
    public async ValueTask DisposeAsync()
    {
        await _cts.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _cts.Dispose();
    }

    private static async Task RunAsync(ITelegramBotClient client, long chatId, int? threadId, TimeProvider timeProvider, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            var wait = Interval;
            try
            {
                await client.SendChatAction(chatId, ChatAction.Typing, messageThreadId: threadId, cancellationToken: ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
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

            try
            {
                await Task.Delay(wait, timeProvider, ct).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}

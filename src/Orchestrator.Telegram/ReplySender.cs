using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Telegram.Bot;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace Orchestrator.Telegram;

/// <summary>How sending a reply ended.</summary>
public enum ReplyStatus
{
    /// <summary>Every part was sent.</summary>
    Sent = 0,

    /// <summary>Telegram refused for good (403: blocked, kicked); the rest was dropped on purpose.</summary>
    Dropped,

    /// <summary>Sending failed after the retries (5xx, transport, 401, unexpected 400…).</summary>
    Failed,
}

/// <summary>The result of <see cref="ReplySender.SendReplyAsync"/>.</summary>
/// <param name="Status">How it ended.</param>
/// <param name="ChatId">The chat the parts went to; differs from the requested one after a group → supergroup migration.</param>
/// <param name="MessageIds">Ids of the parts that were sent, in order.</param>
/// <param name="Error">The classified error for <see cref="ReplyStatus.Dropped"/> and <see cref="ReplyStatus.Failed"/>.</param>
public sealed record ReplyOutcome(ReplyStatus Status, long ChatId, IReadOnlyList<int> MessageIds, TelegramError? Error = null);

/// <summary>
/// Sends an answer to one chat of one bot: splits it, sends the parts in order, and recovers from the Telegram errors
/// that have a known remedy (429 wait, thread or replied message gone, group migrated, bad markup), so the answer is
/// not lost. One instance per bot; safe to use for several chats at once.
/// </summary>
public sealed partial class ReplySender(ITelegramBotClient client, TimeProvider timeProvider, ILogger<ReplySender>? logger = null)
{
    /// <summary>Retries of one part after a 5xx or transport error.</summary>
    public const int MaxTransientRetries = 3;

    /// <summary>Waits on 429 for one part before giving up.</summary>
    public const int MaxRateLimitWaits = 10;

    /// <summary>429 waits longer than this fail the part instead of holding the chat.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(5);

    private readonly ILogger _logger = logger ?? NullLogger<ReplySender>.Instance;

    /// <summary>
    /// Sends <paramref name="text"/> (split at 4096) to <paramref name="chatId"/>. The first part replies to
    /// <paramref name="replyToMessageId"/> (allowing sending without the reply) and every part stays in
    /// <paramref name="threadId"/>. <paramref name="firstPart"/> resumes a reply whose earlier parts an earlier call
    /// sent (the split is deterministic); the outcome lists only the parts this call sent. Cancelling throws
    /// <see cref="OperationCanceledException"/>.
    /// </summary>
    public async Task<ReplyOutcome> SendReplyAsync(
        long chatId,
        string text,
        int? replyToMessageId = null,
        int? threadId = null,
        ParseMode? parseMode = null,
        int firstPart = 0,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegative(firstPart);
        var parts = MessageSplitter.Split(text);
        var sent = new List<int>(Math.Max(parts.Count - firstPart, 0));
        var useThread = threadId is not null;
        var mode = parseMode ?? ParseMode.None;

        for (var index = firstPart; index < parts.Count; index++)
        {
            var part = parts[index];
            var useReply = index == 0 && replyToMessageId is not null;
            var partMode = mode;
            var transientFailures = 0;
            var rateLimitWaits = 0;

            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                try
                {
                    var message = await client.SendMessage(
                        chatId,
                        part,
                        parseMode: partMode,
                        replyParameters: useReply ? new ReplyParameters { MessageId = replyToMessageId!.Value, AllowSendingWithoutReply = true } : null,
                        messageThreadId: useThread ? threadId : null,
                        cancellationToken: cancellationToken).ConfigureAwait(false);
                    sent.Add(message.Id);
                    break;
                }
                catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
                {
                    var error = TelegramErrors.Classify(ex);
                    switch (error.Kind)
                    {
                        case TelegramErrorKind.TooManyRequests when ++rateLimitWaits <= MaxRateLimitWaits
                                                                    && error.RetryAfter <= MaxRetryAfter:
                            LogRateLimited(_logger, chatId, error.RetryAfter!.Value.TotalSeconds);
                            await Task.Delay(error.RetryAfter.Value, timeProvider, cancellationToken).ConfigureAwait(false);
                            continue;
                        case TelegramErrorKind.Forbidden:
                            LogDropped(_logger, chatId, error.Description);
                            return new ReplyOutcome(ReplyStatus.Dropped, chatId, sent, error);
                        case TelegramErrorKind.MigrateToChat when error.MigrateToChatId is { } newChatId && newChatId != chatId:
                            LogMigrated(_logger, chatId, newChatId);
                            chatId = newChatId;
                            // Message and topic ids belong to the old chat.
                            useThread = false;
                            useReply = false;
                            continue;
                        case TelegramErrorKind.BadRequest when error.IsThreadNotFound && useThread:
                            useThread = false;
                            continue;
                        case TelegramErrorKind.BadRequest when error.IsReplyNotFound && useReply:
                            useReply = false;
                            continue;
                        case TelegramErrorKind.BadRequest when error.IsCantParseEntities && partMode != ParseMode.None:
                            partMode = ParseMode.None;
                            continue;
                        case TelegramErrorKind.ServerError or TelegramErrorKind.Transport when ++transientFailures <= MaxTransientRetries:
                            // A transport error after Telegram accepted the message may duplicate it; a lost answer is worse.
                            await Task.Delay(TransientBackoff(transientFailures), timeProvider, cancellationToken).ConfigureAwait(false);
                            continue;
                        default:
                            LogFailed(_logger, chatId, error.Kind, error.ErrorCode, error.Description);
                            return new ReplyOutcome(ReplyStatus.Failed, chatId, sent, error);
                    }
                }
            }
        }

        return new ReplyOutcome(ReplyStatus.Sent, chatId, sent);
    }

    /// <summary>Backoff before retry <paramref name="attempt"/> (1-based) after a 5xx or transport error: 1 s, 2 s, 4 s.</summary>
    internal static TimeSpan TransientBackoff(int attempt) => TimeSpan.FromSeconds(Math.Pow(2, attempt - 1));

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telegram rate limit while replying in chat {ChatId}: waiting {RetryAfterSeconds} s")]
    private static partial void LogRateLimited(ILogger logger, long chatId, double retryAfterSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reply to chat {ChatId} dropped: {Reason}")]
    private static partial void LogDropped(ILogger logger, long chatId, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Chat {ChatId} migrated to supergroup {NewChatId}; re-targeting the reply")]
    private static partial void LogMigrated(ILogger logger, long chatId, long newChatId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reply to chat {ChatId} failed: {Kind} {ErrorCode} {Reason}")]
    private static partial void LogFailed(ILogger logger, long chatId, TelegramErrorKind kind, int? errorCode, string reason);
}

using Microsoft.Extensions.Logging;
using Orchestrator.Abstractions;
using Orchestrator.Grains.Bots;
using Orchestrator.Sensay;
using Orchestrator.Telegram;
using Telegram.Bot;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace Orchestrator.Grains.Conversations;

/// <summary>
/// What one bot does with a message (SPEC §7): decide whether it is addressed to the bot, then answer it with the
/// replica's completion, store it in the replica's history, or explain what is missing. Sensay failures become an
/// apology with an error id; Telegram send failures that have a remedy are handled by the <see cref="ReplySender"/>.
/// </summary>
internal sealed partial class SensayConversation(
    BotDefinition definition,
    ITelegramBotClient client,
    BotIdentity bot,
    ISensayClient sensay,
    UpstreamLimiter upstream,
    FloodLimiter flood,
    ReplySender sender,
    string telegramBaseUrl,
    TimeProvider time,
    ILogger<SensayConversation> logger) : IConversation
{
    /// <summary>Answers are Markdown from the replica; Telegram rejects unbalanced markup and the sender then falls back to plain text.</summary>
    private const ParseMode AnswerParseMode = ParseMode.Markdown;

    /// <summary>At most this many answers wait for a retry to send their rest; past it a retry answers afresh.</summary>
    private const int MaxUnsentAnswers = 64;

    /// <summary>
    /// Answers whose sending failed part-way, by update id. The failed update is delivered again, and its next attempt
    /// sends the rest of the same answer: no second completion, and no part twice. Touched only in the bot's turns.
    /// </summary>
    private Dictionary<int, UnsentAnswer>? _unsent;

    /// <inheritdoc />
    public async Task HandleAsync(Update update, CancellationToken cancellationToken)
    {
        if (update.Message is not { } message)
        {
            return;
        }

        var decision = MessageRules.Decide(message, bot);
        switch (decision)
        {
            case MessageDecision.Ignore:
                return;
            case MessageDecision.StoreHistory store:
                await sensay.SaveChatHistoryAsync(definition.ReplicaUuid, Context(store.Chat), store.Text, cancellationToken);
                return;
        }

        var chat = decision switch
        {
            MessageDecision.Answer answer => answer.Chat,
            MessageDecision.ExplainNoText explain => explain.Chat,
            MessageDecision.NoMessageProvided empty => empty.Chat,
            _ => throw new InvalidOperationException($"Unknown decision {decision.GetType().Name}"),
        };
        if (_unsent?.Remove(update.Id, out var unsent) == true)
        {
            // An earlier attempt decided the answer (and counted the message against the flood limit) but could not
            // send all of it: send the rest.
            await SendAsync(update.Id, chat, unsent, cancellationToken);
            return;
        }

        switch (flood.Check(chat.UserId))
        {
            case FloodVerdict.Skip:
                return;
            case FloodVerdict.Warn:
                await SendAsync(update.Id, chat, new UnsentAnswer(chat.ChatId, ConversationTexts.SlowDown, ParseMode: null), cancellationToken);
                return;
        }

        var text = decision switch
        {
            MessageDecision.Answer answer => await CompleteAsync(answer, cancellationToken),
            MessageDecision.ExplainNoText => ConversationTexts.NoText,
            _ => ConversationTexts.NoMessageProvided,
        };
        await SendAsync(update.Id, chat, new UnsentAnswer(chat.ChatId, text, decision is MessageDecision.Answer ? AnswerParseMode : null), cancellationToken);
    }

    /// <summary>The replica's answer, or an apology with an error id when Sensay fails. Shows "typing" meanwhile.</summary>
    private async Task<string> CompleteAsync(MessageDecision.Answer answer, CancellationToken cancellationToken)
    {
        var chat = answer.Chat;
        try
        {
            // The upstream slot first, then "typing". Under overload replies queue for a slot, and a typing loop per
            // queued reply (a chat action every 4 s each) would add Telegram calls in proportion to the backlog until
            // throughput collapses. With a free slot, as normally, typing still shows at once.
            using (await upstream.AcquireAsync(cancellationToken))
            {
                await using var typing = TypingIndicator.Start(client, chat.ChatId, chat.MessageThreadId, time, cancellationToken);
                if (!await sensay.IsLicenseValidAsync(definition.ReplicaUuid, cancellationToken))
                {
                    return ConversationTexts.LicenseExpired;
                }

                await sensay.EnsureUserAsync(chat.UserId, cancellationToken);
                var imageUrl = answer.PhotoFileId is { } fileId ? await PhotoUrlAsync(fileId, cancellationToken) : null;
                return await sensay.GetCompletionAsync(definition.ReplicaUuid, Context(chat), answer.Text, imageUrl, cancellationToken);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            var errorId = ConversationTexts.NewErrorId();
            LogUpstreamFailed(logger, definition.ReplicaUuid, errorId, Describe(ex));
            return ConversationTexts.Apology(errorId);
        }
    }

    /// <summary>The photo's download URL. It contains the bot token: it goes to Sensay and nowhere else (never a log).</summary>
    private async Task<string?> PhotoUrlAsync(string fileId, CancellationToken cancellationToken)
    {
        var file = await client.GetFile(fileId, cancellationToken);
        return file.FilePath is { Length: > 0 } path ? $"{telegramBaseUrl.TrimEnd('/')}/file/bot{definition.Token}/{path}" : null;
    }

    /// <summary>Sends <paramref name="answer"/> from its first unsent part; a failure keeps the rest for the update's retry.</summary>
    private async Task SendAsync(int updateId, TelegramChatInfo chat, UnsentAnswer answer, CancellationToken cancellationToken)
    {
        // After a migration the message and topic ids belong to the old chat.
        var sameChat = answer.ChatId == chat.ChatId;
        var outcome = await sender.SendReplyAsync(
            answer.ChatId,
            answer.Text,
            sameChat ? chat.MessageId : null,
            sameChat ? chat.MessageThreadId : null,
            answer.ParseMode,
            answer.PartsSent,
            cancellationToken);
        switch (outcome.Status)
        {
            case ReplyStatus.Dropped:
                LogReplyDropped(logger, definition.ReplicaUuid, chat.ChatId, outcome.Error?.Kind.ToString());
                break;
            case ReplyStatus.Failed:
                _unsent ??= [];
                if (_unsent.Count < MaxUnsentAnswers)
                {
                    _unsent[updateId] = answer with { ChatId = outcome.ChatId, PartsSent = answer.PartsSent + outcome.MessageIds.Count };
                }

                // Throwing leaves the update unconfirmed, so it is handled again (up to the attempt limit).
                throw new ReplyFailedException($"Sending the answer failed: {outcome.Error?.Kind}");
        }
    }

    private static TelegramChatContext Context(TelegramChatInfo chat) =>
        new(chat.ChatType, chat.ChatId, chat.ChatName, chat.UserId, chat.Username, chat.MessageId, chat.MessageThreadId);

    private static string Describe(Exception ex) => ex switch
    {
        SensayApiException sensayError => sensayError.Message,
        OperationCanceledException or TimeoutException => "Sensay did not answer in time",
        _ => TelegramErrors.Redact(ex.GetType().Name + ": " + ex.Message),
    };

    [LoggerMessage(Level = LogLevel.Error, Message = "Bot {ReplicaUuid}: upstream failed (error id {ErrorId}): {Error}")]
    private static partial void LogUpstreamFailed(ILogger logger, string replicaUuid, string errorId, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Bot {ReplicaUuid}: answer to chat {ChatId} dropped ({Reason})")]
    private static partial void LogReplyDropped(ILogger logger, string replicaUuid, long chatId, string? reason);
}

/// <summary>An answer decided for an update, and how much of it has reached the chat.</summary>
/// <param name="ChatId">Where it goes (the new supergroup once a group migrated).</param>
/// <param name="Text">The whole answer.</param>
/// <param name="ParseMode">Its markup.</param>
/// <param name="PartsSent">How many of its parts (<see cref="MessageSplitter"/>) were sent.</param>
internal sealed record UnsentAnswer(long ChatId, string Text, ParseMode? ParseMode, int PartsSent = 0);

/// <summary>Sending an answer failed after the sender's own retries.</summary>
internal sealed class ReplyFailedException(string message) : Exception(message);

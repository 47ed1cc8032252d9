using System.Text;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace Orchestrator.Telegram;

/// <summary>The bot itself, as <c>getMe</c> returned it: needed to recognise mentions and replies.</summary>
public sealed record BotIdentity(long Id, string Username);

/// <summary>
/// The chat metadata the upstream (Sensay) call needs for one incoming message.
/// </summary>
/// <param name="ChatType"><c>private</c>, <c>group</c>, <c>supergroup</c> or <c>channel</c>.</param>
/// <param name="ChatId">The chat id.</param>
/// <param name="ChatName">The group title, or the user's first name in a private chat.</param>
/// <param name="UserId">The sender's Telegram user id.</param>
/// <param name="Username">The sender's username, when they have one.</param>
/// <param name="MessageId">The incoming message id (the answer replies to it).</param>
/// <param name="MessageThreadId">The forum topic id, only for topic messages.</param>
public sealed record TelegramChatInfo(
    string ChatType,
    long ChatId,
    string? ChatName,
    long UserId,
    string? Username,
    int MessageId,
    int? MessageThreadId);

/// <summary>What to do with an incoming message. See <see cref="MessageRules.Decide"/>.</summary>
public abstract record MessageDecision
{
    private MessageDecision()
    {
    }

    /// <summary>Nothing to do (from a bot, a service message, a channel post, no sender, nothing to store).</summary>
    public sealed record Ignore(string Reason) : MessageDecision;

    /// <summary>
    /// Ask the replica and answer. <paramref name="Text"/> has this bot's mentions removed;
    /// <paramref name="PhotoFileId"/> is the largest size of a captioned photo (resolve it to a URL for the upstream call).
    /// </summary>
    public sealed record Answer(string Text, string? PhotoFileId, TelegramChatInfo Chat) : MessageDecision;

    /// <summary>A group message not addressed to the bot: store it in the replica's chat history, no answer.</summary>
    public sealed record StoreHistory(string Text, TelegramChatInfo Chat) : MessageDecision;

    /// <summary>Addressed to the bot but without any text (sticker, photo without caption…): explain that only text is understood.</summary>
    public sealed record ExplainNoText(TelegramChatInfo Chat) : MessageDecision;

    /// <summary>Addressed to the bot in a group, but nothing is left once the mention is removed.</summary>
    public sealed record NoMessageProvided(TelegramChatInfo Chat) : MessageDecision;
}

/// <summary>Who gets an answer (SPEC §7): private chats always; groups when the bot is mentioned or replied to.</summary>
public static class MessageRules
{
    /// <summary>Decides what to do with <paramref name="message"/> received by <paramref name="bot"/>.</summary>
    public static MessageDecision Decide(Message message, BotIdentity bot)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(bot);

        if (message.Chat is null || message.Chat.Id == 0)
        {
            return new MessageDecision.Ignore("no chat");
        }

        if (message.Chat.Type is ChatType.Channel or ChatType.Sender)
        {
            return new MessageDecision.Ignore("channel post");
        }

        if (message.From is null)
        {
            return new MessageDecision.Ignore("no sender");
        }

        if (message.From.IsBot)
        {
            return new MessageDecision.Ignore("from a bot");
        }

        if (IsServiceMessage(message))
        {
            return new MessageDecision.Ignore("service message");
        }

        var chat = ChatInfo(message);
        var (text, entities) = message.Text is not null
            ? (message.Text, message.Entities)
            : (message.Caption, message.CaptionEntities);
        var photo = message.Photo is { Length: > 0 } sizes && text is not null ? sizes[^1].FileId : null;

        if (message.Chat.Type == ChatType.Private)
        {
            if (string.IsNullOrWhiteSpace(text))
            {
                return new MessageDecision.ExplainNoText(chat);
            }

            // A private chat is addressed to the bot anyway; a "@bot" in it is still noise for the replica.
            var privateText = RemoveMentions(text, entities, bot);
            return privateText.Length == 0
                ? new MessageDecision.NoMessageProvided(chat)
                : new MessageDecision.Answer(privateText, photo, chat);
        }

        var addressed = IsReplyToBot(message, bot) || MentionsBot(text, entities, bot);
        if (!addressed)
        {
            return string.IsNullOrWhiteSpace(text)
                ? new MessageDecision.Ignore("group message without text")
                : new MessageDecision.StoreHistory(text.Trim(), chat);
        }

        if (text is null)
        {
            // e.g. a sticker sent as a reply to the bot.
            return new MessageDecision.ExplainNoText(chat);
        }

        var stripped = RemoveMentions(text, entities, bot);
        return stripped.Length == 0
            ? new MessageDecision.NoMessageProvided(chat)
            : new MessageDecision.Answer(stripped, photo, chat);
    }

    /// <summary>The upstream chat metadata of <paramref name="message"/> (which must have a chat and a sender).</summary>
    public static TelegramChatInfo ChatInfo(Message message)
    {
        ArgumentNullException.ThrowIfNull(message);
        var chat = message.Chat;
        var chatType = chat.Type switch
        {
            ChatType.Private => "private",
            ChatType.Group => "group",
            ChatType.Supergroup => "supergroup",
            ChatType.Channel => "channel",
            _ => "private",
        };
        var name = chat.Type == ChatType.Private
            ? message.From?.FirstName ?? chat.FirstName
            : chat.Title;
        return new TelegramChatInfo(
            chatType,
            chat.Id,
            name,
            message.From?.Id ?? 0,
            message.From?.Username,
            message.Id,
            message.IsTopicMessage ? message.MessageThreadId : null);
    }

    /// <summary>True when an entity of <paramref name="text"/> mentions <paramref name="bot"/> (@username or text_mention).</summary>
    public static bool MentionsBot(string? text, MessageEntity[]? entities, BotIdentity bot)
    {
        if (text is null || entities is null)
        {
            return false;
        }

        foreach (var entity in entities)
        {
            if (IsMentionOf(text, entity, bot))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Removes every mention of <paramref name="bot"/> (located through the entities, UTF-16 offsets), then collapses
    /// the whitespace left at each cut and trims the result. A "," or ":" right after a leading mention goes too
    /// ("@bot, hi" → "hi"). Mentions of anyone else stay.
    /// </summary>
    public static string RemoveMentions(string text, MessageEntity[]? entities, BotIdentity bot)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (entities is null || entities.Length == 0)
        {
            return text.Trim();
        }

        var ours = entities.Where(e => IsMentionOf(text, e, bot)).OrderBy(e => e.Offset).ToList();
        if (ours.Count == 0)
        {
            return text.Trim();
        }

        var builder = new StringBuilder(text.Length);
        var position = 0;
        foreach (var entity in ours)
        {
            if (entity.Offset < position)
            {
                continue; // overlapping entities: already removed
            }

            builder.Append(text, position, entity.Offset - position);
            position = entity.Offset + entity.Length;

            var atStart = IsBlank(builder);
            if (atStart && position < text.Length && text[position] is ',' or ':')
            {
                position++;
            }

            // "hey @bot, hi" → "hey, hi": punctuation right after the mention joins the word before it.
            if (!atStart && position < text.Length && text[position] is ',' or '.' or '!' or '?' or ';' or ':')
            {
                while (builder.Length > 0 && IsHorizontalSpace(builder[^1]))
                {
                    builder.Length--;
                }
            }

            // Collapse: if whitespace is on both sides of the cut (or at the start), keep only what is before it.
            if (atStart || (builder.Length > 0 && IsHorizontalSpace(builder[^1])))
            {
                while (position < text.Length && IsHorizontalSpace(text[position]))
                {
                    position++;
                }
            }
        }

        builder.Append(text, position, text.Length - position);
        return builder.ToString().Trim();
    }

    private static bool IsMentionOf(string text, MessageEntity entity, BotIdentity bot)
    {
        if (entity.Offset < 0 || entity.Length <= 0 || entity.Offset + entity.Length > text.Length)
        {
            return false;
        }

        return entity.Type switch
        {
            MessageEntityType.Mention => !string.IsNullOrEmpty(bot.Username)
                && entity.Length == bot.Username.Length + 1
                && text[entity.Offset] == '@'
                && text.AsSpan(entity.Offset + 1, entity.Length - 1).Equals(bot.Username, StringComparison.OrdinalIgnoreCase),
            MessageEntityType.TextMention => entity.User?.Id == bot.Id,
            _ => false,
        };
    }

    private static bool IsReplyToBot(Message message, BotIdentity bot)
    {
        if (message.ReplyToMessage is not { } replied)
        {
            return false;
        }

        // In a forum topic every message "replies" to the topic's creation message; that is not a reply to the bot.
        if (message.IsTopicMessage && replied.Id == message.MessageThreadId)
        {
            return false;
        }

        return replied.From?.Id == bot.Id;
    }

    private static bool IsServiceMessage(Message message) =>
        message.Text is null && message.Caption is null && message.Type switch
        {
            MessageType.NewChatMembers or MessageType.LeftChatMember or MessageType.NewChatTitle
                or MessageType.NewChatPhoto or MessageType.DeleteChatPhoto or MessageType.GroupChatCreated
                or MessageType.SupergroupChatCreated or MessageType.ChannelChatCreated or MessageType.MigrateFromChatId
                or MessageType.MigrateToChatId or MessageType.PinnedMessage or MessageType.MessageAutoDeleteTimerChanged
                or MessageType.ProximityAlertTriggered or MessageType.VideoChatScheduled or MessageType.VideoChatStarted
                or MessageType.VideoChatEnded or MessageType.VideoChatParticipantsInvited or MessageType.ForumTopicCreated
                or MessageType.ForumTopicClosed or MessageType.ForumTopicReopened or MessageType.ForumTopicEdited
                or MessageType.GeneralForumTopicHidden or MessageType.GeneralForumTopicUnhidden
                or MessageType.WriteAccessAllowed or MessageType.ConnectedWebsite or MessageType.BoostAdded
                or MessageType.ChatBackgroundSet or MessageType.SuccessfulPayment or MessageType.RefundedPayment
                or MessageType.UsersShared or MessageType.ChatShared or MessageType.GiveawayCreated
                or MessageType.GiveawayCompleted or MessageType.GiveawayWinners or MessageType.WebAppData => true,
            _ => false,
        };

    private static bool IsHorizontalSpace(char c) => c is ' ' or '\t' or '\u00A0';

    private static bool IsBlank(StringBuilder builder)
    {
        for (var i = 0; i < builder.Length; i++)
        {
            if (!char.IsWhiteSpace(builder[i]))
            {
                return false;
            }
        }

        return true;
    }
}

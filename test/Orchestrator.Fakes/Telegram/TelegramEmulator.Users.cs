using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchestrator.Fakes.Telegram;

/// <summary>The user side: messages pushed into a bot's update queue, waking its pending long poll.</summary>
public sealed partial class TelegramEmulator
{
    /// <summary>A text message in the private chat with <paramref name="from"/> (default Alice).</summary>
    public PostedUpdate SendPrivateText(string token, string text, TelegramUser? from = null) =>
        SendUserMessage(token, new UserMessage { Text = text, From = from ?? TelegramUser.Alice });

    /// <summary>A text message in a group or supergroup, optionally replying to a message of that chat.</summary>
    public PostedUpdate SendGroupText(string token, TelegramChat chat, string text, TelegramUser? from = null, int? replyToMessageId = null) =>
        SendUserMessage(token, new UserMessage { Chat = chat, Text = text, From = from ?? TelegramUser.Alice, ReplyToMessageId = replyToMessageId });

    /// <summary>"@botusername text" in a group: the text starts with a <c>mention</c> entity of the bot.</summary>
    public PostedUpdate SendMention(string token, TelegramChat chat, string text, TelegramUser? from = null)
    {
        string username;
        lock (_sync)
        {
            username = Require(token).Username;
        }

        return SendGroupText(token, chat, $"@{username} {text}", from);
    }

    /// <summary>A message in a forum topic (<c>is_topic_message</c>, <c>message_thread_id</c>); the topic is created when new.</summary>
    public PostedUpdate SendTopicText(string token, TelegramChat forum, int threadId, string text, TelegramUser? from = null) =>
        SendUserMessage(token, new UserMessage { Chat = forum, ThreadId = threadId, Text = text, From = from ?? TelegramUser.Alice });

    /// <summary>A reply to a message the bot sent (<c>reply_to_message</c> carries it, <c>from</c> = the bot), in the same chat and thread.</summary>
    public PostedUpdate SendReplyToBot(string token, SentMessage botMessage, string text, TelegramUser? from = null)
    {
        ArgumentNullException.ThrowIfNull(botMessage);
        TelegramChat chat;
        lock (_sync)
        {
            var state = Require(token).Chats.GetValueOrDefault(botMessage.ChatId)
                ?? throw new ArgumentException("The bot never sent to that chat.", nameof(botMessage));
            chat = ChatFromJson(state.Chat);
        }

        return SendUserMessage(token, new UserMessage
        {
            Chat = chat,
            From = from ?? TelegramUser.Alice,
            Text = text,
            ThreadId = botMessage.MessageThreadId,
            ReplyToMessageId = botMessage.MessageId,
        });
    }

    /// <summary>A photo with an optional caption (private chat with <paramref name="from"/> unless <paramref name="chat"/> is given).</summary>
    public PostedUpdate SendPhoto(string token, string? caption = null, TelegramChat? chat = null, TelegramUser? from = null) =>
        SendUserMessage(token, new UserMessage { Chat = chat, Photo = true, Caption = caption, From = from ?? TelegramUser.Alice });

    /// <summary>A service message: <paramref name="members"/> joined the chat (no text).</summary>
    public PostedUpdate SendNewChatMembers(string token, TelegramChat chat, params TelegramUser[] members) =>
        SendUserMessage(token, new UserMessage { Chat = chat, From = members.Length > 0 ? members[0] : TelegramUser.Alice, NewChatMembers = members });

    /// <summary>Creates a forum topic with its service message (<c>forum_topic_created</c>) and returns its thread id.</summary>
    public int CreateForumTopic(string token, TelegramChat forum, string name, TelegramUser? from = null)
    {
        ArgumentNullException.ThrowIfNull(forum);
        lock (_sync)
        {
            var bot = Require(token);
            var chatJson = TelegramJson.Chat(forum);
            var chat = GetChat(bot, chatJson);
            var threadId = chat.NextMessageId++;
            var root = TopicRoot(chatJson, threadId, name, from ?? TelegramUser.Alice);
            chat.Messages[threadId] = root;
            chat.Threads.Add(threadId);
            Enqueue(bot, "message", root, threadId, forum.Id, null);
            return threadId;
        }
    }

    /// <summary>Pushes a user message. <c>mention</c>/<c>bot_command</c> entities are computed; returns the update and message ids.</summary>
    public PostedUpdate SendUserMessage(string token, UserMessage message)
    {
        ArgumentNullException.ThrowIfNull(message);
        lock (_sync)
        {
            var bot = Require(token);
            var chatInfo = message.Chat ?? TelegramChat.PrivateWith(message.From);
            var chatJson = TelegramJson.Chat(chatInfo);
            var chat = GetChat(bot, chatJson);
            var date = Now.ToUnixTimeSeconds();

            JsonObject? topicRoot = null;
            if (message.ThreadId is { } thread && chat.IsForum)
            {
                if (!chat.Messages.TryGetValue(thread, out topicRoot))
                {
                    topicRoot = TopicRoot(chatJson, thread, $"Topic {thread}", message.From);
                    chat.Messages[thread] = topicRoot;
                    chat.NextMessageId = Math.Max(chat.NextMessageId, thread + 1);
                }
            }

            var messageId = chat.NextMessageId++;
            var json = new JsonObject
            {
                ["message_id"] = messageId,
                ["from"] = TelegramJson.User(message.From),
                ["chat"] = chatJson.DeepClone(),
                ["date"] = date,
            };

            if (message.ThreadId is { } threadId)
            {
                json["message_thread_id"] = threadId;
                chat.Threads.Add(threadId);
                if (chat.IsForum)
                {
                    json["is_topic_message"] = true;
                }
            }

            if (message.ReplyToMessageId is { } replyTo)
            {
                var target = chat.Messages.GetValueOrDefault(replyTo)
                    ?? throw new ArgumentException($"Message {replyTo} does not exist in chat {chatInfo.Id}.", nameof(message));
                json["reply_to_message"] = ReplyCopy(target);
            }
            else if (topicRoot is not null)
            {
                // Like Telegram: a topic message that replies to nothing replies to the topic's creation message.
                json["reply_to_message"] = ReplyCopy(topicRoot);
            }

            if (message.Photo)
            {
                json["photo"] = PhotoSizes(bot);
                if (message.Caption is { } caption)
                {
                    json["caption"] = caption;
                    var captionEntities = EntityRules.Detect(caption, message.TextMentions);
                    if (captionEntities.Count > 0)
                    {
                        json["caption_entities"] = captionEntities;
                    }
                }
            }
            else if (message.Text is { } text)
            {
                json["text"] = text;
                var entities = EntityRules.Detect(text, message.TextMentions);
                if (entities.Count > 0)
                {
                    json["entities"] = entities;
                }
            }

            if (message.NewChatMembers.Count > 0)
            {
                json["new_chat_members"] = new JsonArray([.. message.NewChatMembers.Select(u => (JsonNode)TelegramJson.User(u))]);
            }

            if (_options.RecordHistory)
            {
                chat.Messages[messageId] = json;
            }

            return Enqueue(bot, "message", json, messageId, chatInfo.Id, message.Text ?? message.Caption);
        }
    }

    /// <summary>Pushes a raw update. Without <c>update_id</c> one is assigned; a given one must be higher than every earlier one.</summary>
    public PostedUpdate PushRawUpdate(string token, string updateJson)
    {
        if (JsonNode.Parse(updateJson) is not JsonObject update)
        {
            throw new ArgumentException("An update is a JSON object.", nameof(updateJson));
        }

        lock (_sync)
        {
            var bot = Require(token);
            if (BotApiParameters.AsLong(update["update_id"]) is { } given)
            {
                if (given < bot.NextUpdateId)
                {
                    throw new ArgumentException($"update_id {given} is not above the last one ({bot.NextUpdateId - 1}).", nameof(updateJson));
                }

                bot.NextUpdateId = checked((int)given);
            }

            update.Remove("update_id");
            var kind = update.Select(p => p.Key).FirstOrDefault() ?? "unknown";
            var payload = update[kind] as JsonObject ?? [];
            var messageId = (int)(BotApiParameters.AsLong(payload["message_id"]) ?? 0);
            var chatId = BotApiParameters.AsLong(payload["chat"]?["id"]) ?? 0;
            if (payload["chat"] is JsonObject chatJson && messageId > 0)
            {
                var chat = GetChat(bot, (JsonObject)chatJson.DeepClone());
                chat.Messages[messageId] = (JsonObject)payload.DeepClone();
                chat.NextMessageId = Math.Max(chat.NextMessageId, messageId + 1);
            }

            return Enqueue(bot, kind, payload, messageId, chatId, payload["text"]?.GetValueKind() == JsonValueKind.String ? payload["text"]!.GetValue<string>() : null);
        }
    }

    private PostedUpdate Enqueue(BotState bot, string kind, JsonObject payload, int messageId, long chatId, string? text)
    {
        var updateId = bot.NextUpdateId++;
        if (bot.AllowedUpdates is not { Count: > 0 } allowed || allowed.Contains(kind))
        {
            bot.Updates.Add((updateId, SerializeUpdate(updateId, kind, payload)));
        }

        var posted = new PostedUpdate(NextSequence(), updateId, messageId, chatId, text, Now);
        if (_options.RecordHistory)
        {
            bot.Posted.Add(posted);
        }

        bot.PendingPoll?.Wake.TrySetResult(PollWake.NewUpdate);
        _waiters.Notify();
        return posted;
    }

    private static byte[] SerializeUpdate(int updateId, string kind, JsonObject payload) =>
        TelegramJson.ToJsonBytes((updateId, kind, payload), static (writer, update) =>
        {
            writer.WriteStartObject();
            writer.WriteNumber("update_id", update.updateId);
            writer.WritePropertyName(update.kind);
            update.payload.WriteTo(writer);
            writer.WriteEndObject();
        });

    private JsonObject TopicRoot(JsonObject chat, int threadId, string name, TelegramUser creator) => new()
    {
        ["message_id"] = threadId,
        ["from"] = TelegramJson.User(creator),
        ["chat"] = chat.DeepClone(),
        ["date"] = Now.ToUnixTimeSeconds(),
        ["message_thread_id"] = threadId,
        ["forum_topic_created"] = new JsonObject { ["name"] = name, ["icon_color"] = 7322096 },
        ["is_topic_message"] = true,
    };

    private static JsonObject ReplyCopy(JsonObject target)
    {
        var copy = (JsonObject)target.DeepClone();
        copy.Remove("reply_to_message");
        return copy;
    }

    private static JsonArray PhotoSizes(BotState bot)
    {
        var sizes = new JsonArray();
        foreach (var (width, height) in new[] { (90, 68), (320, 240), (800, 600) })
        {
            var number = bot.NextFileNumber++;
            var fileId = $"AgACAgIAAxkBAAI{bot.Id}Ph{number:D4}";
            var uniqueId = $"AQAD{bot.Id}u{number:D4}";
            bot.Files[fileId] = (uniqueId, $"photos/file_{number}.png");
            sizes.Add(new JsonObject
            {
                ["file_id"] = fileId,
                ["file_unique_id"] = uniqueId,
                ["file_size"] = TinyPng.Length,
                ["width"] = width,
                ["height"] = height,
            });
        }

        return sizes;
    }

    private static TelegramChat ChatFromJson(JsonObject chat) => new(
        BotApiParameters.AsLong(chat["id"]) ?? 0,
        chat["type"]?.GetValue<string>() ?? "private",
        chat["title"]?.GetValue<string>(),
        chat["is_forum"]?.GetValue<bool>() == true,
        chat["first_name"]?.GetValue<string>(),
        chat["username"]?.GetValue<string>());

    /// <summary>The bytes served for every photo file: a 1×1 PNG.</summary>
    internal static readonly byte[] TinyPng = Convert.FromBase64String(
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==");
}

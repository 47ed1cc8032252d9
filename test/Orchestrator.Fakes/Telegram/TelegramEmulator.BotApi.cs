using System.Text;
using System.Text.Json.Nodes;

namespace Orchestrator.Fakes.Telegram;

/// <summary>The Bot API side: what Telegram.Bot calls.</summary>
public sealed partial class TelegramEmulator
{
    private const int MaxLongPollSeconds = 50;
    private const int MaxTextLength = 4096;

    private static readonly string[] KnownMethods =
        ["getMe", "getUpdates", "sendMessage", "sendChatAction", "deleteWebhook", "getWebhookInfo", "getFile"];

    private void MapBotApi(WebApplication app)
    {
        // "/bot{token}/{method}" as a template would 404 tokens that contain "bot": match the whole segment and strip the prefix.
        app.Map("/{botToken}/{method}", HandleBotApiAsync);
        app.MapGet("/file/{botToken}/{**filePath}", HandleFileAsync);
    }

    private async Task HandleBotApiAsync(HttpContext context)
    {
        var rawToken = (string)context.Request.RouteValues["botToken"]!;
        var requested = (string)context.Request.RouteValues["method"]!;
        if (!rawToken.StartsWith("bot", StringComparison.Ordinal))
        {
            await WriteAsync(context, 404, TelegramJson.Error(404, "Not Found")).ConfigureAwait(false);
            return;
        }

        var token = rawToken[3..];
        var method = Array.Find(KnownMethods, m => string.Equals(m, requested, StringComparison.OrdinalIgnoreCase)) ?? requested;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _shutdown.Token);
        var cancellationToken = linked.Token;

        JsonObject? parameters;
        try
        {
            parameters = await BotApiParameters.ReadAsync(context.Request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or BadHttpRequestException)
        {
            context.Abort();
            return;
        }

        BotState? bot;
        TelegramFault? fault = null;
        lock (_sync)
        {
            if (ParseBotId(token) is not null)
            {
                _methodCounts[method] = _methodCounts.GetValueOrDefault(method) + 1;
                if (_options.RecordHistory)
                {
                    _calls.Add(new BotApiCall(NextSequence(), Now, token, method, (JsonObject?)parameters?.DeepClone() ?? []));
                }
            }

            bot = Authenticate(token);
            if (bot is not null)
            {
                fault = TakeFault(bot, method);
            }

            _waiters.Notify();
        }

        if (bot is null)
        {
            await WriteAsync(context, 401, TelegramJson.Error(401, "Unauthorized")).ConfigureAwait(false);
            return;
        }

        if (fault is not null && await ApplyFaultAsync(context, fault, cancellationToken).ConfigureAwait(false))
        {
            return;
        }

        if (parameters is null)
        {
            await WriteAsync(context, 400, TelegramJson.Error(400, "Bad Request: can't parse JSON object")).ConfigureAwait(false);
            return;
        }

        var (status, body) = method switch
        {
            "getMe" => (200, TelegramJson.Ok(GetMe(bot))),
            "getUpdates" => await GetUpdatesAsync(bot, parameters, cancellationToken).ConfigureAwait(false),
            "sendMessage" => SendMessage(bot, parameters),
            "sendChatAction" => SendChatAction(bot, parameters),
            "deleteWebhook" => DeleteWebhook(bot, parameters),
            "getWebhookInfo" => GetWebhookInfo(bot),
            "getFile" => GetFile(bot, parameters),
            _ => (404, TelegramJson.Error(404, "Not Found")),
        };

        if (status == 0)
        {
            // The request ended without an answer (client gone or emulator stopping).
            context.Abort();
            return;
        }

        await WriteAsync(context, status, body).ConfigureAwait(false);
    }

    private static async Task WriteAsync(HttpContext context, int status, byte[] body, string contentType = "application/json")
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = contentType;
        context.Response.ContentLength = body.Length;
        try
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client is gone.
        }
    }

    private static TelegramFault? TakeFault(BotState bot, string method)
    {
        var entry = bot.Faults.Find(f => f.Method is null || string.Equals(f.Method, method, StringComparison.OrdinalIgnoreCase));
        if (entry is null)
        {
            return null;
        }

        if (--entry.Remaining <= 0)
        {
            bot.Faults.Remove(entry);
        }

        return entry.Fault;
    }

    /// <summary>Applies a fault; false when the call should then proceed normally (a pure delay).</summary>
    private static async Task<bool> ApplyFaultAsync(HttpContext context, TelegramFault fault, CancellationToken cancellationToken)
    {
        try
        {
            if (fault.Delay > TimeSpan.Zero)
            {
                await Task.Delay(fault.Delay, cancellationToken).ConfigureAwait(false);
            }

            if (fault.Hang)
            {
                await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
            }
        }
        catch (OperationCanceledException)
        {
            context.Abort();
            return true;
        }

        if (fault.DropConnection)
        {
            context.Abort();
            return true;
        }

        if (fault.RawBody is { } raw)
        {
            await WriteAsync(context, fault.StatusCode ?? 502, Encoding.UTF8.GetBytes(raw), fault.RawContentType).ConfigureAwait(false);
            return true;
        }

        if (fault.StatusCode is { } code)
        {
            var description = fault.Description ?? TelegramJson.DefaultDescription(code, fault.RetryAfter);
            await WriteAsync(context, code, TelegramJson.Error(code, description, fault.RetryAfter, fault.MigrateToChatId)).ConfigureAwait(false);
            return true;
        }

        return false;
    }

    private static JsonObject GetMe(BotState bot)
    {
        var me = bot.UserJson();
        me["can_join_groups"] = true;
        me["can_read_all_group_messages"] = false;
        me["supports_inline_queries"] = false;
        return me;
    }

    private async Task<(int Status, byte[] Body)> GetUpdatesAsync(BotState bot, JsonObject parameters, CancellationToken cancellationToken)
    {
        var offset = BotApiParameters.GetLong(parameters, "offset") ?? 0;
        var limit = BotApiParameters.GetInt(parameters, "limit") is { } l and > 0 ? Math.Min(l, 100) : 100;
        var timeout = Math.Clamp(BotApiParameters.GetLong(parameters, "timeout") ?? 0, 0, MaxLongPollSeconds);

        PendingPoll poll;
        lock (_sync)
        {
            if (parameters["allowed_updates"] is JsonArray allowed)
            {
                // Sticky, like Telegram: an omitted allowed_updates keeps the previous setting.
                bot.AllowedUpdates = allowed.Count == 0 ? null : [.. allowed.Select(a => a?.ToString() ?? string.Empty)];
            }

            Confirm(bot, offset);
            if (bot.PendingPoll is { } older)
            {
                older.Wake.TrySetResult(PollWake.Conflict);
                bot.PendingPoll = null;
            }

            if (bot.Updates.Count > 0 || timeout == 0)
            {
                _waiters.Notify();
                return (200, Batch(bot, limit));
            }

            poll = new PendingPoll();
            bot.PendingPoll = poll;
            _waiters.Notify();
        }

        PollWake? wake = null;
        try
        {
            wake = await poll.Wake.Task.WaitAsync(TimeSpan.FromSeconds(timeout), cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // An empty answer, unless an update slipped in.
        }
        catch (OperationCanceledException)
        {
            lock (_sync)
            {
                if (bot.PendingPoll == poll)
                {
                    bot.PendingPoll = null;
                }

                _waiters.Notify();
            }

            return (0, []);
        }

        lock (_sync)
        {
            if (bot.PendingPoll == poll)
            {
                bot.PendingPoll = null;
            }

            try
            {
                switch (wake)
                {
                    case PollWake.Conflict:
                        bot.ConflictCount++;
                        _conflictCount++;
                        return (409, TelegramJson.Error(409, TelegramJson.DefaultDescription(409, null)));
                    case PollWake.Revoked:
                        return (401, TelegramJson.Error(401, "Unauthorized"));
                    default:
                        return (200, Batch(bot, limit));
                }
            }
            finally
            {
                _waiters.Notify();
            }
        }
    }

    /// <summary>Applies an offset: positive confirms every update below it; negative keeps only the last −offset updates.</summary>
    private static void Confirm(BotState bot, long offset)
    {
        if (offset > 0)
        {
            bot.Updates.RemoveAll(u => u.UpdateId < offset);
            bot.ConfirmedOffset = (int)Math.Max(bot.ConfirmedOffset, Math.Min(offset, int.MaxValue));
        }
        else if (offset < 0)
        {
            var keep = (int)Math.Min(-offset, int.MaxValue);
            var drop = Math.Max(0, bot.Updates.Count - keep);
            if (drop > 0)
            {
                bot.ConfirmedOffset = Math.Max(bot.ConfirmedOffset, bot.Updates[drop - 1].UpdateId + 1);
                bot.Updates.RemoveRange(0, drop);
            }
        }
    }

    private static byte[] Batch(BotState bot, int limit) => TelegramJson.OkArray(bot.Updates.Take(limit).Select(u => u.Json));

    private (int, byte[]) SendMessage(BotState bot, JsonObject parameters)
    {
        var text = BotApiParameters.GetString(parameters, "text") ?? string.Empty;
        if (string.IsNullOrWhiteSpace(text))
        {
            return (400, TelegramJson.Error(400, "Bad Request: message text is empty"));
        }

        if (text.Length > MaxTextLength)
        {
            return (400, TelegramJson.Error(400, "Bad Request: message is too long"));
        }

        var parseMode = BotApiParameters.GetString(parameters, "parse_mode");
        if (!string.IsNullOrEmpty(parseMode) && EntityRules.CheckParseMode(text, parseMode) is { } parseError)
        {
            return (400, TelegramJson.Error(400, parseError));
        }

        int? replyTo;
        bool allowWithoutReply;
        if (parameters["reply_parameters"] is JsonObject reply)
        {
            replyTo = (int?)BotApiParameters.AsLong(reply["message_id"]);
            allowWithoutReply = BotApiParameters.GetBool(reply, "allow_sending_without_reply");
        }
        else
        {
            replyTo = BotApiParameters.GetInt(parameters, "reply_to_message_id");
            allowWithoutReply = BotApiParameters.GetBool(parameters, "allow_sending_without_reply");
        }

        var threadId = BotApiParameters.GetInt(parameters, "message_thread_id");
        lock (_sync)
        {
            if (ResolveChat(bot, parameters) is not { } chat)
            {
                return (400, TelegramJson.Error(400, "Bad Request: chat not found"));
            }

            if (CheckThread(chat, threadId) is { } threadError)
            {
                return threadError;
            }

            JsonObject? target = null;
            if (replyTo is { } replyId && !chat.Messages.TryGetValue(replyId, out target) && _options.RequireReplyTargetExists && !allowWithoutReply)
            {
                return (400, TelegramJson.Error(400, "Bad Request: message to be replied not found"));
            }

            var now = Now;
            var messageId = chat.NextMessageId++;
            var message = new JsonObject
            {
                ["message_id"] = messageId,
                ["from"] = bot.UserJson(),
                ["chat"] = chat.Chat.DeepClone(),
                ["date"] = now.ToUnixTimeSeconds(),
            };
            if (threadId is { } thread)
            {
                message["message_thread_id"] = thread;
                if (chat.IsForum)
                {
                    message["is_topic_message"] = true;
                }
            }

            if (target is not null)
            {
                message["reply_to_message"] = ReplyCopy(target);
            }

            message["text"] = text;
            var chatId = BotApiParameters.AsLong(chat.Chat["id"]) ?? 0;
            if (_options.RecordHistory)
            {
                chat.Messages[messageId] = message;
                bot.Sent.Add(new SentMessage(NextSequence(), bot.Id, chatId, messageId, text, threadId, replyTo, parseMode, now, (JsonObject)parameters.DeepClone()));
                _waiters.Notify();
            }

            _options.SentMessageObserver?.Invoke(bot.Token, chatId);
            return (200, TelegramJson.Ok(message));
        }
    }

    private (int, byte[]) SendChatAction(BotState bot, JsonObject parameters)
    {
        var action = BotApiParameters.GetString(parameters, "action");
        if (string.IsNullOrEmpty(action))
        {
            return (400, TelegramJson.Error(400, "Bad Request: action is empty"));
        }

        var threadId = BotApiParameters.GetInt(parameters, "message_thread_id");
        lock (_sync)
        {
            if (ResolveChat(bot, parameters) is not { } chat)
            {
                return (400, TelegramJson.Error(400, "Bad Request: chat not found"));
            }

            if (CheckThread(chat, threadId) is { } threadError)
            {
                return threadError;
            }

            if (_options.RecordHistory)
            {
                var chatId = BotApiParameters.AsLong(chat.Chat["id"]) ?? 0;
                bot.Actions.Add(new ChatActionRecord(NextSequence(), bot.Id, chatId, action, threadId, Now));
                _waiters.Notify();
            }

            return (200, TelegramJson.Ok(true));
        }
    }

    private (int, byte[]) DeleteWebhook(BotState bot, JsonObject parameters)
    {
        if (BotApiParameters.GetBool(parameters, "drop_pending_updates"))
        {
            lock (_sync)
            {
                if (bot.Updates.Count > 0)
                {
                    bot.ConfirmedOffset = Math.Max(bot.ConfirmedOffset, bot.Updates[^1].UpdateId + 1);
                    bot.Updates.Clear();
                    _waiters.Notify();
                }
            }
        }

        return (200, TelegramJson.Ok(true));
    }

    private (int, byte[]) GetWebhookInfo(BotState bot)
    {
        lock (_sync)
        {
            return (200, TelegramJson.Ok(new JsonObject { ["url"] = string.Empty, ["has_custom_certificate"] = false, ["pending_update_count"] = bot.Updates.Count }));
        }
    }

    private (int, byte[]) GetFile(BotState bot, JsonObject parameters)
    {
        var fileId = BotApiParameters.GetString(parameters, "file_id") ?? string.Empty;
        lock (_sync)
        {
            if (!bot.Files.TryGetValue(fileId, out var file))
            {
                return (400, TelegramJson.Error(400, "Bad Request: invalid file_id"));
            }

            return (200, TelegramJson.Ok(new JsonObject
            {
                ["file_id"] = fileId,
                ["file_unique_id"] = file.UniqueId,
                ["file_size"] = TinyPng.Length,
                ["file_path"] = file.Path,
            }));
        }
    }

    private async Task HandleFileAsync(HttpContext context)
    {
        var rawToken = (string)context.Request.RouteValues["botToken"]!;
        var path = (string?)context.Request.RouteValues["filePath"] ?? string.Empty;
        bool found;
        lock (_sync)
        {
            found = rawToken.StartsWith("bot", StringComparison.Ordinal)
                && Authenticate(rawToken[3..]) is { } bot
                && bot.Files.Values.Any(f => f.Path == path);
        }

        if (!found)
        {
            await WriteAsync(context, 404, TelegramJson.Error(404, "Not Found")).ConfigureAwait(false);
            return;
        }

        context.Response.ContentType = "image/png";
        await context.Response.Body.WriteAsync(TinyPng, context.RequestAborted).ConfigureAwait(false);
    }

    /// <summary>The chat of <c>chat_id</c> (a number, or "@username" of a known chat); unknown numeric ids get a plausible chat.</summary>
    private static ChatState? ResolveChat(BotState bot, JsonObject parameters)
    {
        if (BotApiParameters.GetLong(parameters, "chat_id") is { } id)
        {
            if (!bot.Chats.TryGetValue(id, out var chat))
            {
                chat = new ChatState(new JsonObject { ["id"] = id, ["type"] = id > 0 ? "private" : "supergroup" });
                bot.Chats[id] = chat;
            }

            return chat;
        }

        var name = BotApiParameters.GetString(parameters, "chat_id");
        return name is ['@', .. var username]
            ? bot.Chats.Values.FirstOrDefault(c => string.Equals(c.Chat["username"]?.ToString(), username, StringComparison.OrdinalIgnoreCase))
            : null;
    }

    private (int, byte[])? CheckThread(ChatState chat, int? threadId) =>
        threadId is { } thread && _options.RequireThreadExists && !chat.Threads.Contains(thread)
            ? (400, TelegramJson.Error(400, "Bad Request: message thread not found"))
            : null;
}

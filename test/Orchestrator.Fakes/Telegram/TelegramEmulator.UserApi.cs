using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchestrator.Fakes.Telegram;

/// <summary>
/// The user side over HTTP (for the standalone chat page), under <c>/_emulator</c>. Bots are addressed by bot id, so tokens never reach the page.
/// <list type="bullet">
/// <item><c>GET /_emulator/bots</c>: <c>[{id, username, first_name, revoked}]</c></item>
/// <item><c>POST /_emulator/bots/{id}/messages</c> <c>{text, chat: "private"|"group"|"topic", mention?: bool}</c>: posts as Alice</item>
/// <item><c>POST /_emulator/bots/{id}/updates</c>: a raw update JSON</item>
/// <item><c>GET /_emulator/bots/{id}/timeline?after={sequence}</c>: user messages, bot messages and chat actions</item>
/// </list>
/// </summary>
public sealed partial class TelegramEmulator
{
    /// <summary>The demo group of the chat page.</summary>
    public static TelegramChat DemoGroup { get; } = TelegramChat.Supergroup(-1001234567890, "Demo group");

    /// <summary>The demo forum (topic 1) of the chat page.</summary>
    public static TelegramChat DemoForum { get; } = TelegramChat.Supergroup(-1009876543210, "Demo forum", isForum: true);

    private void MapUserApi(WebApplication app)
    {
        app.MapGet("/", () => Results.Content(ChatPage.Html, "text/html; charset=utf-8"));
        var api = app.MapGroup("/_emulator");
        api.MapGet("/bots", () =>
        {
            lock (_sync)
            {
                return Results.Json(_bots.Values.Select(b => new { id = b.Id, username = b.Username, first_name = b.FirstName, revoked = b.Revoked }).ToList());
            }
        });
        api.MapPost("/bots/{botId:long}/messages", async (long botId, HttpRequest request) =>
        {
            if (TokenOf(botId) is not { } token)
            {
                return Results.NotFound(new { error = "unknown bot" });
            }

            JsonObject? body;
            try
            {
                body = await JsonNode.ParseAsync(request.Body).ConfigureAwait(false) as JsonObject;
            }
            catch (JsonException)
            {
                body = null;
            }

            var text = body?["text"]?.GetValueKind() == JsonValueKind.String ? body["text"]!.GetValue<string>() : null;
            if (string.IsNullOrWhiteSpace(text))
            {
                return Results.BadRequest(new { error = "text is required" });
            }

            var mention = body!["mention"]?.GetValueKind() == JsonValueKind.True;
            var posted = body["chat"]?.ToString() switch
            {
                "group" => mention ? SendMention(token, DemoGroup, text) : SendGroupText(token, DemoGroup, text),
                "topic" => SendUserMessage(token, new UserMessage { Chat = DemoForum, ThreadId = 1, Text = mention ? $"@{GetBot(token)!.Username} {text}" : text }),
                _ => SendPrivateText(token, text),
            };
            return Results.Json(posted);
        });
        api.MapPost("/bots/{botId:long}/updates", async (long botId, HttpRequest request) =>
        {
            if (TokenOf(botId) is not { } token)
            {
                return Results.NotFound(new { error = "unknown bot" });
            }

            using var reader = new StreamReader(request.Body);
            try
            {
                return Results.Json(PushRawUpdate(token, await reader.ReadToEndAsync().ConfigureAwait(false)));
            }
            catch (Exception ex) when (ex is JsonException or ArgumentException)
            {
                return Results.BadRequest(new { error = ex.Message });
            }
        });
        api.MapGet("/bots/{botId:long}/timeline", (long botId, long? after) =>
        {
            lock (_sync)
            {
                var bot = _bots.Values.Where(b => b.Id == botId).MaxBy(b => b.Revoked ? 0 : 1);
                if (bot is null)
                {
                    return Results.NotFound(new { error = "unknown bot" });
                }

                var since = after ?? 0;
                var items = bot.Posted.Where(p => p.Sequence > since)
                    .Select(p => new TimelineItem(p.Sequence, "user", p.ChatId, p.Text ?? "(no text)", null, Stamp(p.Time)))
                    .Concat(bot.Sent.Where(m => m.Sequence > since)
                        .Select(m => new TimelineItem(m.Sequence, "bot", m.ChatId, m.Text, m.MessageThreadId, Stamp(m.Time))))
                    .Concat(bot.Actions.Where(a => a.Sequence > since)
                        .Select(a => new TimelineItem(a.Sequence, "action", a.ChatId, a.Action, a.MessageThreadId, Stamp(a.Time))))
                    .OrderBy(i => i.Seq)
                    .ToList();
                return Results.Json(items);
            }
        });
    }

    private string? TokenOf(long botId)
    {
        lock (_sync)
        {
            return _bots.Values.Where(b => b.Id == botId && !b.Revoked).Select(b => b.Token).FirstOrDefault();
        }
    }

    private static string Stamp(DateTimeOffset time) => time.ToLocalTime().ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    private sealed record TimelineItem(long Seq, string Kind, long ChatId, string Text, int? ThreadId, string Time);
}

using System.Text;
using System.Text.Json.Nodes;

namespace Orchestrator.Fakes.Telegram;

/// <summary>Entity detection for user messages and a simple but real parse_mode check for sendMessage.</summary>
internal static class EntityRules
{
    private const string MarkdownV2Reserved = "_*[]()~`>#+-=|{}.!";

    /// <summary>Telegram-style <c>mention</c> (<c>@</c> and at least 3 word characters) and leading <c>bot_command</c> entities at UTF-16 offsets.</summary>
    public static JsonArray Detect(string text, IReadOnlyList<TextMention> textMentions)
    {
        var entities = new List<(int Offset, JsonObject Entity)>();
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if ((c == '@' || (c == '/' && i == 0)) && (i == 0 || !IsWordChar(text[i - 1])))
            {
                var end = i + 1;
                while (end < text.Length && (IsWordChar(text[end]) || (c == '/' && text[end] == '@')))
                {
                    end++;
                }

                var length = end - i;
                if (c == '@' && length >= 4)
                {
                    entities.Add((i, new JsonObject { ["offset"] = i, ["length"] = length, ["type"] = "mention" }));
                }
                else if (c == '/' && length >= 2)
                {
                    entities.Add((i, new JsonObject { ["offset"] = i, ["length"] = length, ["type"] = "bot_command" }));
                }

                i = end - 1;
            }
        }

        foreach (var mention in textMentions)
        {
            entities.Add((mention.Offset, new JsonObject
            {
                ["offset"] = mention.Offset,
                ["length"] = mention.Length,
                ["type"] = "text_mention",
                ["user"] = TelegramJson.User(mention.User),
            }));
        }

        return [.. entities.OrderBy(e => e.Offset).Select(e => (JsonNode)e.Entity)];
    }

    private static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c == '_';

    /// <summary>Returns Telegram's "can't parse entities" description, or null when the text parses.</summary>
    public static string? CheckParseMode(string text, string parseMode) => parseMode.ToUpperInvariant() switch
    {
        "MARKDOWN" => CheckMarkdown(text, v2: false),
        "MARKDOWNV2" => CheckMarkdown(text, v2: true),
        "HTML" => CheckHtml(text),
        _ => $"Bad Request: unsupported parse_mode",
    };

    private static string? CheckMarkdown(string text, bool v2)
    {
        char? open = null;
        var openAt = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (v2 && c == '\\')
            {
                i++;
                continue;
            }

            if (open == '`')
            {
                if (c == '`')
                {
                    open = null;
                }

                continue;
            }

            if (c is '*' or '_' or '`' || (v2 && c == '~'))
            {
                if (open == c)
                {
                    open = null;
                }
                else if (open is null)
                {
                    open = c;
                    openAt = i;
                }

                continue;
            }

            if (v2 && MarkdownV2Reserved.Contains(c, StringComparison.Ordinal) && c is not ('[' or ']' or '(' or ')'))
            {
                return $"Bad Request: can't parse entities: Character '{c}' is reserved and must be escaped with the preceding '\\'";
            }
        }

        return open is null ? null : EndNotFound(text, openAt);
    }

    private static string? CheckHtml(string text)
    {
        var stack = new Stack<(string Tag, int At)>();
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] != '<')
            {
                continue;
            }

            var close = text.IndexOf('>', i);
            if (close < 0)
            {
                return $"Bad Request: can't parse entities: Unclosed start tag at byte offset {ByteOffset(text, i)}";
            }

            var inner = text[(i + 1)..close];
            if (inner.StartsWith('/'))
            {
                var name = inner[1..].Trim().ToLowerInvariant();
                if (stack.Count == 0 || stack.Peek().Tag != name)
                {
                    return $"Bad Request: can't parse entities: Unmatched end tag at byte offset {ByteOffset(text, i)}, expected \"</{(stack.Count == 0 ? string.Empty : stack.Peek().Tag)}>\", found \"</{name}>\"";
                }

                stack.Pop();
            }
            else
            {
                var name = inner.Split(' ', 2)[0].ToLowerInvariant();
                if (name is not ("b" or "strong" or "i" or "em" or "u" or "ins" or "s" or "strike" or "del" or "a" or "code" or "pre" or "span" or "tg-spoiler" or "tg-emoji" or "blockquote"))
                {
                    return $"Bad Request: can't parse entities: Unsupported start tag \"{name}\" at byte offset {ByteOffset(text, i)}";
                }

                stack.Push((name, i));
            }

            i = close;
        }

        return stack.Count == 0 ? null : EndNotFound(text, stack.Peek().At);
    }

    private static string EndNotFound(string text, int index) =>
        $"Bad Request: can't parse entities: Can't find end of the entity starting at byte offset {ByteOffset(text, index)}";

    private static int ByteOffset(string text, int index) => Encoding.UTF8.GetByteCount(text.AsSpan(0, index));
}

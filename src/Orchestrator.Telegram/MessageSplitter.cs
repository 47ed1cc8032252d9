namespace Orchestrator.Telegram;

/// <summary>Splits a long answer into Telegram-sized messages (4096 UTF-16 units by default).</summary>
public static class MessageSplitter
{
    /// <summary>Telegram's maximum message length.</summary>
    public const int TelegramMaxLength = 4096;

    private static readonly string[] SentenceEnds = [". ", "! ", "? ", ".\n", "!\n", "?\n"];

    /// <summary>
    /// Splits <paramref name="text"/> into parts of at most <paramref name="maxLength"/> UTF-16 units, cutting at the
    /// last paragraph break (blank line), else line break, else sentence end, else space of each window, else hard
    /// (never inside a surrogate pair). Paragraph, line and sentence cuts are only taken in the second half of a
    /// window, so parts do not become tiny. Whitespace around cuts is trimmed; every non-whitespace character is kept,
    /// in order. Text of at most <paramref name="maxLength"/> comes back unchanged; blank text gives no part at all.
    /// </summary>
    public static IReadOnlyList<string> Split(string text, int maxLength = TelegramMaxLength)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 2);

        if (string.IsNullOrWhiteSpace(text))
        {
            return [];
        }

        if (text.Length <= maxLength)
        {
            return [text];
        }

        var parts = new List<string>();
        var remaining = text.AsMemory().Trim();
        while (remaining.Length > maxLength)
        {
            var span = remaining.Span;
            var limit = maxLength;
            if (char.IsHighSurrogate(span[limit - 1]) && char.IsLowSurrogate(span[limit]))
            {
                limit--; // do not separate a surrogate pair
            }

            // Search one character past the limit: a boundary right after it still gives a part of `limit` units.
            var cut = FindCut(span[..(limit + 1)], limit);
            var part = remaining[..cut].TrimEnd();
            if (part.Length > 0)
            {
                parts.Add(part.ToString());
            }

            remaining = remaining[cut..].TrimStart();
        }

        if (remaining.Length > 0)
        {
            parts.Add(remaining.ToString());
        }

        return parts;
    }

    /// <summary>The length (at most <paramref name="limit"/>) of the next part; boundaries are searched in <paramref name="window"/>.</summary>
    private static int FindCut(ReadOnlySpan<char> window, int limit)
    {
        var half = limit / 2;

        var paragraph = window.LastIndexOf("\n\n");
        if (paragraph >= half)
        {
            return paragraph;
        }

        var line = window.LastIndexOf('\n');
        if (line >= half)
        {
            return line;
        }

        var sentence = -1;
        foreach (var end in SentenceEnds)
        {
            sentence = Math.Max(sentence, window.LastIndexOf(end));
        }

        if (sentence >= half)
        {
            return sentence + 1; // keep the punctuation with its sentence
        }

        var space = window.LastIndexOfAny(' ', '\t', '\n');
        if (space > 0)
        {
            return space;
        }

        return limit;
    }
}

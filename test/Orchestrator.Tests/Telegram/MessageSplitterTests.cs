using Orchestrator.Telegram;

namespace Orchestrator.Tests.Telegram;

public sealed class MessageSplitterTests
{
    private static string NonWhitespace(IEnumerable<string> parts) =>
        string.Concat(parts.SelectMany(p => p.Where(c => !char.IsWhiteSpace(c))));

    private static void AssertValid(string text, IReadOnlyList<string> parts, int max = 4096)
    {
        Assert.All(parts, p => Assert.InRange(p.Length, 1, max));
        Assert.All(parts, p => Assert.False(string.IsNullOrWhiteSpace(p)));
        Assert.Equal(NonWhitespace([text]), NonWhitespace(parts));
    }

    [Fact]
    public void Text_of_exactly_the_maximum_is_one_unchanged_part()
    {
        var text = new string('a', 4096);

        var parts = MessageSplitter.Split(text);

        Assert.Same(text, Assert.Single(parts));
    }

    [Fact]
    public void Text_one_over_the_maximum_is_split_at_a_word()
    {
        var text = string.Join(' ', Enumerable.Repeat("word", 820)); // 4099 chars

        var parts = MessageSplitter.Split(text);

        Assert.Equal(2, parts.Count);
        AssertValid(text, parts);
        Assert.All(parts, p => Assert.DoesNotContain("wor ", p + " ", StringComparison.Ordinal));
        Assert.All(parts, p => Assert.EndsWith("word", p, StringComparison.Ordinal));
    }

    [Fact]
    public void Text_of_4097_without_spaces_is_cut_hard()
    {
        var text = new string('x', 4097);

        var parts = MessageSplitter.Split(text);

        Assert.Equal([4096, 1], parts.Select(p => p.Length));
    }

    [Fact]
    public void Long_text_without_any_space_is_cut_in_full_parts()
    {
        var text = new string('x', 10_000);

        var parts = MessageSplitter.Split(text);

        Assert.Equal([4096, 4096, 1808], parts.Select(p => p.Length));
        AssertValid(text, parts);
    }

    [Fact]
    public void Surrogate_pair_at_the_boundary_is_not_broken()
    {
        var text = new string('a', 4095) + "😀" + new string('b', 10);

        var parts = MessageSplitter.Split(text);

        Assert.Equal(2, parts.Count);
        Assert.Equal(4095, parts[0].Length);
        Assert.StartsWith("😀", parts[1], StringComparison.Ordinal);
        Assert.All(parts, p => Assert.False(char.IsHighSurrogate(p[^1])));
        AssertValid(text, parts);
    }

    [Fact]
    public void Many_paragraphs_are_split_between_paragraphs()
    {
        var paragraphs = Enumerable.Range(0, 100).Select(i => $"P{i:D3} " + new string('z', 95)).ToList();
        var text = string.Join("\n\n", paragraphs);

        var parts = MessageSplitter.Split(text);

        Assert.True(parts.Count >= 3);
        AssertValid(text, parts);
        var rebuilt = parts.SelectMany(p => p.Split("\n\n")).ToList();
        Assert.Equal(paragraphs, rebuilt);
    }

    [Fact]
    public void Line_breaks_are_preferred_over_sentences_and_words()
    {
        var lines = Enumerable.Range(0, 80).Select(i => $"Line {i:D2}. has some words in it and ends here").ToList();
        var text = string.Join("\n", lines);

        var parts = MessageSplitter.Split(text);

        AssertValid(text, parts);
        Assert.Equal(lines, parts.SelectMany(p => p.Split('\n')).ToList());
    }

    [Fact]
    public void Sentences_are_kept_whole_when_there_are_no_line_breaks()
    {
        var sentences = Enumerable.Range(0, 200).Select(i => $"Sentence {i:D3} says something rather short!").ToList();
        var text = string.Join(' ', sentences);

        var parts = MessageSplitter.Split(text);

        Assert.True(parts.Count >= 2);
        AssertValid(text, parts);
        Assert.All(parts, p => Assert.EndsWith("!", p, StringComparison.Ordinal));
        Assert.All(parts, p => Assert.StartsWith("Sentence", p, StringComparison.Ordinal));
    }

    [Fact]
    public void Question_and_period_ends_are_sentence_boundaries_too()
    {
        var text = string.Concat(Enumerable.Range(0, 150).Select(i => i % 2 == 0 ? $"Is number {i:D3} fine? " : $"Number {i:D3} is fine. ")).Trim();

        var parts = MessageSplitter.Split(text, 1000);

        AssertValid(text, parts, 1000);
        Assert.All(parts, p => Assert.True(p.EndsWith('?') || p.EndsWith('.'), p[^5..]));
    }

    [Fact]
    public void Blank_text_gives_no_parts_and_short_text_is_returned_as_is()
    {
        Assert.Empty(MessageSplitter.Split("   \n "));
        Assert.Equal(["hi"], MessageSplitter.Split("hi"));
    }
}

using Orchestrator.Telegram.Http2;

namespace Orchestrator.Tests.Telegram;

/// <summary>The lean long-poll client reads a response's :status from its HPACK header block (RFC 7541).</summary>
public sealed class HpackStatusTests
{
    public static TheoryData<string, int> Blocks => new()
    {
        // Indexed static entries 8 (:status 200) and 13 (:status 404), among other fields.
        { "88", 200 },
        { "8d", 404 },
        // Literal with incremental indexing, name :status (index 8), raw "409"; then content-type as a literal.
        { "4803343039" + "5f10" + "6170706c69636174696f6e2f6a736f6e", 409 },
        // Literal without indexing (0000) and never indexed (0001), name :status, raw "429" / "502".
        { "0803343239", 429 },
        { "1803353032", 502 },
        // RFC 7541 C.6.1 and C.6.2: Huffman-coded "302" and "307".
        { "48826402", 302 },
        { "4883640eff", 307 },
        // A dynamic table size update to 0 first (a server confirming the client's SETTINGS), then the status.
        { "20" + "88", 200 },
        // A literal name spelled out, then an indexed status.
        { "00" + "03782d61" + "0162" + "89", 204 },
        // No status at all.
        { "5f10" + "6170706c69636174696f6e2f6a736f6e", 0 },
    };

    [Theory]
    [MemberData(nameof(Blocks))]
    public void The_status_is_read_from_any_representation(string hex, int status) =>
        Assert.Equal(status, HpackStatus.Read(Convert.FromHexString(hex)));

    [Theory]
    [InlineData("3f01")] // a dynamic table size update above the announced 0
    [InlineData("be")] // index 62: the dynamic table, which the client does not keep
    [InlineData("80")] // index 0
    [InlineData("4805343039")] // a string longer than the block
    [InlineData("48ff")] // an integer cut short
    [InlineData("4802343039")] // :status of two digits
    [InlineData("488264")] // a Huffman :status cut short
    public void A_malformed_block_is_invalid_data(string hex) =>
        Assert.Throws<InvalidDataException>(() => HpackStatus.Read(Convert.FromHexString(hex)));

    [Fact]
    public void Every_three_digit_status_decodes_from_its_huffman_code()
    {
        // RFC 7541 Appendix B: '0'-'2' are 00000-00010 (5 bits), '3'-'9' 011001-011111 (6 bits); EOS padding is ones.
        var digits = new byte[3];
        for (var status = 100; status < 1000; status++)
        {
            var text = status.ToString(System.Globalization.CultureInfo.InvariantCulture);
            var bits = string.Concat(text.Select(c => c <= '2'
                ? Convert.ToString(c - '0', 2).PadLeft(5, '0')
                : Convert.ToString(0b011001 + (c - '3'), 2).PadLeft(6, '0')));
            bits = bits.PadRight((bits.Length + 7) / 8 * 8, '1');
            var coded = Enumerable.Range(0, bits.Length / 8).Select(i => Convert.ToByte(bits.Substring(i * 8, 8), 2)).ToArray();

            Assert.True(HuffmanDigits.TryDecode(coded, digits), text);
            Assert.Equal(text, System.Text.Encoding.ASCII.GetString(digits));
        }
    }

    [Theory]
    [InlineData("64")] // too short for three digits
    [InlineData("640200")] // a whole byte of padding
    [InlineData("6000")] // '/' first
    [InlineData("f1e3c2e5")] // letters ("www.")
    public void A_huffman_string_that_is_not_three_digits_is_refused(string hex)
    {
        Span<byte> digits = stackalloc byte[3];
        Assert.False(HuffmanDigits.TryDecode(Convert.FromHexString(hex), digits));
    }
}

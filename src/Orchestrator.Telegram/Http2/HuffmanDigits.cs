namespace Orchestrator.Telegram.Http2;

/// <summary>
/// Decodes an HPACK Huffman-coded string that must be exactly three decimal digits (a <c>:status</c>). In the code of
/// RFC 7541 Appendix B, '0'-'2' are the 5-bit codes 00000-00010 and '3'-'9' the 6-bit codes 011001-011111 (the RFC's
/// own example C.6.1 codes "302" as 0x64 0x02); the string ends with fewer than 8 padding bits, all ones.
/// </summary>
internal static class HuffmanDigits
{
    /// <summary>Decodes <paramref name="coded"/> into the three <paramref name="digits"/> (ASCII); false if it is anything else.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> coded, Span<byte> digits)
    {
        var totalBits = coded.Length * 8;
        var position = 0;
        for (var i = 0; i < digits.Length; i++)
        {
            if (position + 5 <= totalBits && Bits(coded, position, 5) is var five and <= 2)
            {
                digits[i] = (byte)('0' + five);
                position += 5;
            }
            else if (position + 6 <= totalBits && Bits(coded, position, 6) is var six and >= 0b011001 and <= 0b011111)
            {
                digits[i] = (byte)('3' + (six - 0b011001));
                position += 6;
            }
            else
            {
                return false;
            }
        }

        var padding = totalBits - position;
        return padding < 8 && (padding == 0 || Bits(coded, position, padding) == (1 << padding) - 1);
    }

    /// <summary>The <paramref name="count"/> bits (at most 8) from bit <paramref name="position"/>, most significant first.</summary>
    private static int Bits(ReadOnlySpan<byte> data, int position, int count)
    {
        var value = 0;
        for (var i = 0; i < count; i++)
        {
            var bit = position + i;
            value = (value << 1) | ((data[bit >> 3] >> (7 - (bit & 7))) & 1);
        }

        return value;
    }
}

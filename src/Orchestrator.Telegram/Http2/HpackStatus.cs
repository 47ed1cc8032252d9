namespace Orchestrator.Telegram.Http2;

/// <summary>
/// Reads the <c>:status</c> of a response header block (RFC 7541). The client announces a dynamic table of size 0
/// (<c>SETTINGS_HEADER_TABLE_SIZE</c>), so the server may index nothing: a block is the static table's entries and
/// literals, and only the status is kept. Other fields are skipped, Huffman-coded or not.
/// </summary>
internal static class HpackStatus
{
    /// <summary>The last static-table entry (RFC 7541, Appendix A).</summary>
    private const int StaticTableSize = 61;

    /// <summary>Static-table entries 8-14 are <c>:status</c> with these values.</summary>
    private static ReadOnlySpan<short> StaticStatuses => [200, 204, 206, 304, 400, 404, 500];

    private static ReadOnlySpan<byte> StatusName => ":status"u8;

    /// <summary>The block's status, or 0 if it has none; throws <see cref="InvalidDataException"/> for a malformed block.</summary>
    public static int Read(ReadOnlySpan<byte> block)
    {
        var status = 0;
        var position = 0;
        while (position < block.Length)
        {
            var first = block[position];
            if ((first & 0x80) != 0)
            {
                // Indexed field.
                var index = ReadInteger(block, ref position, 7);
                status = StaticStatus(index) is var value and > 0 ? value : status;
                continue;
            }

            if ((first & 0xE0) == 0x20)
            {
                // Dynamic table size update: only 0 is within what the client announced.
                if (ReadInteger(block, ref position, 5) != 0)
                {
                    throw new InvalidDataException("HPACK: dynamic table size update above the announced 0.");
                }

                continue;
            }

            // A literal: with incremental indexing (01), without indexing (0000) or never indexed (0001).
            var nameIndex = ReadInteger(block, ref position, (first & 0x40) != 0 ? 6 : 4);
            bool isStatus;
            if (nameIndex == 0)
            {
                var name = ReadString(block, ref position, out var huffman);
                isStatus = !huffman && name.SequenceEqual(StatusName);
            }
            else
            {
                isStatus = nameIndex is >= 8 and <= 14;
                if (nameIndex > StaticTableSize)
                {
                    throw new InvalidDataException("HPACK: reference to a dynamic table entry, which the client does not keep.");
                }
            }

            var text = ReadString(block, ref position, out var coded);
            if (isStatus)
            {
                status = ParseStatus(text, coded);
            }
        }

        return status;
    }

    private static int StaticStatus(int index) => index switch
    {
        >= 8 and <= 14 => StaticStatuses[index - 8],
        >= 1 and <= StaticTableSize => 0,
        _ => throw new InvalidDataException("HPACK: index outside the static table."),
    };

    private static int ParseStatus(ReadOnlySpan<byte> text, bool huffman)
    {
        Span<byte> digits = stackalloc byte[3];
        if (huffman)
        {
            if (!HuffmanDigits.TryDecode(text, digits))
            {
                throw new InvalidDataException("HPACK: :status is not three digits.");
            }
        }
        else if (text.Length == 3)
        {
            text.CopyTo(digits);
        }
        else
        {
            throw new InvalidDataException("HPACK: :status is not three digits.");
        }

        var status = 0;
        foreach (var digit in digits)
        {
            if (digit is < (byte)'0' or > (byte)'9')
            {
                throw new InvalidDataException("HPACK: :status is not three digits.");
            }

            status = (status * 10) + (digit - '0');
        }

        return status;
    }

    /// <summary>An HPACK integer with an <paramref name="prefixBits"/>-bit prefix (RFC 7541, 5.1).</summary>
    internal static int ReadInteger(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        var max = (1 << prefixBits) - 1;
        var value = block[position++] & max;
        if (value < max)
        {
            return value;
        }

        for (var shift = 0; ; shift += 7)
        {
            if (position >= block.Length || shift > 21)
            {
                throw new InvalidDataException("HPACK: integer truncated or too large.");
            }

            var next = block[position++];
            value += (next & 0x7F) << shift;
            if ((next & 0x80) == 0)
            {
                return value;
            }
        }
    }

    private static ReadOnlySpan<byte> ReadString(ReadOnlySpan<byte> block, ref int position, out bool huffman)
    {
        if (position >= block.Length)
        {
            throw new InvalidDataException("HPACK: string truncated.");
        }

        huffman = (block[position] & 0x80) != 0;
        var length = ReadInteger(block, ref position, 7);
        if (length > block.Length - position)
        {
            throw new InvalidDataException("HPACK: string truncated.");
        }

        var text = block.Slice(position, length);
        position += length;
        return text;
    }
}

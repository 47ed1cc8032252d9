using System.Text;
using Microsoft.Extensions.Options;
using Orchestrator.Telegram;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace Orchestrator.Tests.Telegram;

/// <summary>
/// The long polls' own HTTP/2 client against a server scripted frame by frame (<see cref="RawHttp2Server"/>): the
/// protocol's fault paths that a well-behaved server does not produce on demand.
/// </summary>
public sealed class LeanPollFaultTests
{
    private static readonly string NoUpdates = Tg.OkJson("[]");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Streams_above_a_goaway_are_sent_again_on_a_new_connection_and_those_below_are_still_answered()
    {
        await using var server = new RawHttp2Server();
        using var factory = Factory(server);
        var first = Poll(factory, "1001:a");
        var answered = await server.NextRequestAsync(Ct);
        var second = Poll(factory, "1002:b");
        var unprocessed = await server.NextRequestAsync(Ct);
        Assert.Equal((1, 1, 3), (answered.Connection.Number, answered.StreamId, unprocessed.StreamId));

        // The server shuts down gracefully: it will finish stream 1, and never saw stream 3.
        await answered.Connection.GoAwayAsync(lastStreamId: 1);
        var resent = await server.NextRequestAsync(Ct);
        await answered.OkAsync(NoUpdates);
        await resent.OkAsync(NoUpdates);

        Assert.Empty(await first);
        Assert.Empty(await second);
        Assert.Equal((2, unprocessed.Path), (resent.Connection.Number, resent.Path));
    }

    [Fact]
    public async Task A_refused_stream_is_sent_again()
    {
        await using var server = new RawHttp2Server();
        using var factory = Factory(server);
        var poll = Poll(factory, "1001:a");

        var refused = await server.NextRequestAsync(Ct);
        await refused.ResetAsync(0x7); // REFUSED_STREAM
        var again = await server.NextRequestAsync(Ct);
        await again.OkAsync(NoUpdates);

        Assert.Empty(await poll);
        Assert.Equal((refused.Path, 3), (again.Path, again.StreamId));
    }

    [Fact]
    public async Task A_stream_reset_for_another_reason_is_a_transport_error()
    {
        await using var server = new RawHttp2Server();
        using var factory = Factory(server);
        var poll = Poll(factory, "1001:a");

        await (await server.NextRequestAsync(Ct)).ResetAsync(0x2); // INTERNAL_ERROR

        var exception = await Assert.ThrowsAsync<RequestException>(() => poll);
        Assert.Equal(TelegramErrorKind.Transport, Orchestrator.Telegram.TelegramErrors.Classify(exception).Kind);
    }

    [Fact]
    public async Task A_huffman_coded_status_in_a_padded_header_block_split_by_continuation_and_a_padded_body_are_read()
    {
        await using var server = new RawHttp2Server();
        using var factory = Factory(server);
        var poll = Poll(factory, "1001:a");
        var request = await server.NextRequestAsync(Ct);

        // HEADERS (PADDED, 3 bytes of padding, no END_HEADERS): a literal content-type, then in a CONTINUATION
        // (END_HEADERS) ":status 409" as a literal without indexing whose value is Huffman-coded (0x68 0x0f 0xff).
        byte[] contentType = [0x0f, 0x10, 16, .. "application/json"u8]; // static name 31, 4-bit prefix: 15 + 16
        await request.Connection.WriteFrameAsync(0x1, 0x8, request.StreamId, (byte[])[3, .. contentType, 0, 0, 0]);
        await request.Connection.WriteFrameAsync(0x9, 0x4, request.StreamId, new byte[] { 0x08, 0x83, 0x68, 0x0f, 0xff });
        var body = Encoding.UTF8.GetBytes(Tg.ErrorJson(409, "Conflict: terminated by other getUpdates request"));
        await request.Connection.WriteFrameAsync(0x0, 0x8, request.StreamId, (byte[])[2, .. body[..20], 0, 0]); // PADDED
        await request.Connection.WriteFrameAsync(0x0, 0x1, request.StreamId, body[20..]); // END_STREAM

        var error = await Assert.ThrowsAsync<ApiRequestException>(() => poll);
        Assert.Equal(409, error.ErrorCode);
    }

    [Fact]
    public async Task The_servers_pings_are_answered_with_the_same_payload()
    {
        await using var server = new RawHttp2Server();
        using var factory = Factory(server);
        var poll = Poll(factory, "1001:a");
        var request = await server.NextRequestAsync(Ct);

        await request.Connection.PingAsync(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 });
        await request.OkAsync(NoUpdates);
        Assert.Empty(await poll);

        // The client's other frames (SETTINGS ACK, WINDOW_UPDATE) come first; then the PING ACK.
        (byte Type, byte Flags, int Stream, byte[] Payload) frame;
        do
        {
            frame = await request.Connection.Received.Reader.ReadAsync(Ct);
        }
        while (frame.Type != 0x6);

        Assert.Equal((byte)0x1, frame.Flags);
        Assert.Equal(new byte[] { 1, 2, 3, 4, 5, 6, 7, 8 }, frame.Payload);
    }

    private static TelegramClientFactory Factory(RawHttp2Server server) => new(Options.Create(new TelegramClientOptions
    {
        BaseUrl = $"https://127.0.0.1:{server.Port}",
        UseHttp2 = true,
        TrustedCertificateFile = server.CertificateFile,
    }));

    private static Task<Update[]> Poll(TelegramClientFactory factory, string token) =>
        factory.CreatePoller(token, [UpdateType.Message]).GetUpdatesAsync(offset: 0, limit: 100, timeout: 50, Ct).AsTask();
}

using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Threading.Channels;
using Orchestrator.Fakes;

namespace Orchestrator.Tests.Telegram;

/// <summary>
/// An HTTP/2 server over TLS that speaks raw frames, for the faults a well-behaved server such as Kestrel does not
/// produce on demand: GOAWAY with unprocessed streams, REFUSED_STREAM, Huffman-coded statuses, padding, CONTINUATION,
/// PINGs. Each request (a client HEADERS frame) is handed to the test as a <see cref="RawRequest"/>, which answers it
/// frame by frame.
/// </summary>
internal sealed class RawHttp2Server : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly X509Certificate2 _certificate = SelfSignedCertificate.Create();
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentBag<RawConnection> _connections = [];
    private readonly Task _accepting;

    public RawHttp2Server(int maxConcurrentStreams = 100)
    {
        CertificateFile = Path.Combine(Path.GetTempPath(), $"raw-h2-{Guid.NewGuid():N}.crt");
        SelfSignedCertificate.WritePem(_certificate, CertificateFile);
        _listener.Start();
        _accepting = AcceptAsync(maxConcurrentStreams);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public string CertificateFile { get; }

    private readonly Channel<RawRequest> _requests = Channel.CreateUnbounded<RawRequest>();

    /// <summary>The next request to arrive, over any connection, in order.</summary>
    public ValueTask<RawRequest> NextRequestAsync(CancellationToken cancellationToken) => _requests.Reader.ReadAsync(cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        foreach (var connection in _connections)
        {
            connection.Dispose();
        }

        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        File.Delete(CertificateFile);
        _stop.Dispose();
    }

    private async Task AcceptAsync(int maxConcurrentStreams)
    {
        while (!_stop.IsCancellationRequested)
        {
            var socket = await _listener.AcceptSocketAsync(_stop.Token);
            var tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
            await tls.AuthenticateAsServerAsync(
                new SslServerAuthenticationOptions { ServerCertificate = _certificate, ApplicationProtocols = [SslApplicationProtocol.Http2] },
                _stop.Token);
            var connection = new RawConnection(tls, _connections.Count + 1, _requests.Writer);
            _connections.Add(connection);
            _ = connection.RunAsync(maxConcurrentStreams, _stop.Token);
        }
    }

    /// <summary>One accepted connection: reads the client's frames, writes the test's.</summary>
    internal sealed class RawConnection(SslStream stream, int number, ChannelWriter<RawRequest> requests) : IDisposable
    {
        private readonly SemaphoreSlim _writing = new(1, 1);

        /// <summary>1 for the first connection accepted, 2 for the second…</summary>
        public int Number { get; } = number;

        /// <summary>Frames the client sent other than HEADERS, in order: (type, flags, stream, payload).</summary>
        public Channel<(byte Type, byte Flags, int Stream, byte[] Payload)> Received { get; } =
            Channel.CreateUnbounded<(byte Type, byte Flags, int Stream, byte[] Payload)>();

        public async Task RunAsync(int maxConcurrentStreams, CancellationToken stop)
        {
            try
            {
                var preface = new byte[24];
                await stream.ReadExactlyAsync(preface, stop);
                var settings = new byte[6];
                BinaryPrimitives.WriteUInt16BigEndian(settings, 0x3);
                BinaryPrimitives.WriteInt32BigEndian(settings.AsSpan(2), maxConcurrentStreams);
                await WriteFrameAsync(0x4, 0, 0, settings);
                var header = new byte[9];
                while (!stop.IsCancellationRequested)
                {
                    await stream.ReadExactlyAsync(header, stop);
                    var length = (header[0] << 16) | (header[1] << 8) | header[2];
                    var payload = new byte[length];
                    await stream.ReadExactlyAsync(payload, stop);
                    var (type, flags, id) = (header[3], header[4], BinaryPrimitives.ReadInt32BigEndian(header.AsSpan(5)) & int.MaxValue);
                    if (type == 0x1)
                    {
                        await requests.WriteAsync(new RawRequest(this, id, PathOf(payload)), stop);
                    }
                    else
                    {
                        await Received.Writer.WriteAsync((type, flags, id, payload), stop);
                    }
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException or EndOfStreamException)
            {
                // The client or the test closed the connection.
            }
        }

        public async Task WriteFrameAsync(byte type, byte flags, int streamId, ReadOnlyMemory<byte> payload)
        {
            var frame = new byte[9 + payload.Length];
            frame[0] = (byte)(payload.Length >> 16);
            frame[1] = (byte)(payload.Length >> 8);
            frame[2] = (byte)payload.Length;
            frame[3] = type;
            frame[4] = flags;
            BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), streamId);
            payload.CopyTo(frame.AsMemory(9));
            await _writing.WaitAsync();
            try
            {
                await stream.WriteAsync(frame);
            }
            finally
            {
                _writing.Release();
            }
        }

        public Task GoAwayAsync(int lastStreamId)
        {
            var payload = new byte[8];
            BinaryPrimitives.WriteInt32BigEndian(payload, lastStreamId);
            return WriteFrameAsync(0x7, 0, 0, payload);
        }

        public Task PingAsync(ReadOnlyMemory<byte> data) => WriteFrameAsync(0x6, 0, 0, data);

        public void Dispose() => stream.Dispose();

        /// <summary>The client's header block is always 0x82 0x87, :authority and :path as raw literals without indexing.</summary>
        private static string PathOf(byte[] block)
        {
            var position = 4 + block[3]; // 0x82 0x87, then 0x01 and a short :authority
            if (block[position++] != 0x04)
            {
                throw new InvalidDataException("expected :path");
            }

            var length = block[position++] & 0x7F;
            if (length == 0x7F)
            {
                byte next;
                var shift = 0;
                do
                {
                    next = block[position++];
                    length += (next & 0x7F) << shift;
                    shift += 7;
                }
                while ((next & 0x80) != 0);
            }

            return Encoding.ASCII.GetString(block, position, length);
        }
    }
}

/// <summary>A client request: its connection, stream and path; answered by the test.</summary>
internal sealed record RawRequest(RawHttp2Server.RawConnection Connection, int StreamId, string Path)
{
    /// <summary>HEADERS with <c>:status 200</c> (static index 8), then the body in one DATA frame ending the stream.</summary>
    public async Task OkAsync(string json)
    {
        await Connection.WriteFrameAsync(0x1, 0x4, StreamId, new byte[] { 0x88 });
        await Connection.WriteFrameAsync(0x0, 0x1, StreamId, Encoding.UTF8.GetBytes(json));
    }

    public Task ResetAsync(int errorCode)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(payload, errorCode);
        return Connection.WriteFrameAsync(0x3, 0, StreamId, payload);
    }
}

using System.Buffers.Binary;
using System.Net.Security;

namespace Orchestrator.Telegram.Http2;

/// <summary>
/// One HTTP/2 connection (RFC 9113) carrying many bots' long polls: GET requests without a body, answered with a small
/// JSON body. A stream's state is the bot's <see cref="PollExchange"/>, so opening one allocates nothing. One reader
/// loop parses the frames; writes are appended to a buffer under the lock and flushed by one writer at a time, so the
/// HEADERS of many polls share a TLS record and stream ids reach the wire in order.
/// </summary>
internal sealed class Http2PollConnection
{
    private const byte Data = 0x0, Headers = 0x1, RstStream = 0x3, Settings = 0x4, PushPromise = 0x5, Ping = 0x6, GoAway = 0x7, WindowUpdate = 0x8, Continuation = 0x9;
    private const int CancelError = 0x8, RefusedStreamError = 0x7;
    private const byte EndStream = 0x1, Ack = 0x1, EndHeaders = 0x4, Padded = 0x8, Priority = 0x20;
    private const int FrameHeaderLength = 9;
    private const int MaxFrameSize = 16_384;

    /// <summary>Each stream's receive window, announced in SETTINGS; replenished when half of it is used.</summary>
    private const int StreamWindow = 4 << 20;

    /// <summary>The connection's receive window; replenished when half of it is used.</summary>
    private const int ConnectionWindow = 16 << 20;

    /// <summary>A long-poll answer larger than this is refused (100 updates are far below it).</summary>
    private const int MaxBody = 16 << 20;

    /// <summary>A response header block larger than this ends the connection (a poll's answer has a few short fields).</summary>
    private const int MaxHeaderBlock = 64 << 10;

    /// <summary>Until the server's SETTINGS say otherwise (RFC 9113 recommends no less than 100).</summary>
    private const int InitialMaxStreams = 100;

    private static ReadOnlySpan<byte> Preface => "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8;

    private readonly SslStream _stream;
    private readonly byte[] _authorityField;
    private readonly long _createdTicks;
    private readonly Lock _lock = new();
    private readonly Dictionary<int, PollExchange> _streams = [];
    private readonly TaskCompletionSource _settingsReceived = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private byte[] _out = new byte[16_384];
    private byte[] _spare = new byte[16_384];
    private int _outLength;
    private bool _writing;
    private int _nextStreamId = 1;
    private int _maxStreams = InitialMaxStreams;
    private bool _closing;
    private Exception? _failure;
    private int _connectionUnacknowledged;
    private long _lastReceivedTicks;
    private long _pingSentTicks;
    private long _idleSinceTicks;

    private Http2PollConnection(SslStream stream, byte[] authorityField, long now)
    {
        _stream = stream;
        _authorityField = authorityField;
        _createdTicks = now;
        _lastReceivedTicks = now;
        _idleSinceTicks = now;
    }

    /// <summary>Starts the connection over an authenticated TLS stream that negotiated <c>h2</c>: preface, settings, reader.</summary>
    public static Http2PollConnection Start(SslStream stream, byte[] authorityField, Action<Http2PollConnection> closed)
    {
        var connection = new Http2PollConnection(stream, authorityField, Environment.TickCount64);
        lock (connection._lock)
        {
            var preface = connection.Reserve(Preface.Length);
            Preface.CopyTo(preface);

            // SETTINGS: no dynamic table for the responses' headers (HpackStatus keeps none), no server push, and a
            // stream window that one poll's answer never exhausts.
            var settings = connection.ReserveFrame(18, Settings, 0, 0);
            WriteSetting(settings, 0x1, 0);
            WriteSetting(settings[6..], 0x2, 0);
            WriteSetting(settings[12..], 0x4, StreamWindow);
            BinaryPrimitives.WriteInt32BigEndian(connection.ReserveFrame(4, WindowUpdate, 0, 0), ConnectionWindow - 65_535);
            connection.ScheduleFlush();
        }

        _ = connection.ReadLoopAsync(closed);
        return connection;
    }

    /// <summary>
    /// Completes when the server's first SETTINGS arrived (its stream limit is known), or fails with the connection.
    /// The pool opens no stream before: a start storm would otherwise put more polls on a new connection than the
    /// server takes, and have the rest refused.
    /// </summary>
    public Task SettingsReceived => _settingsReceived.Task;

    /// <summary>
    /// Opens a stream for <paramref name="exchange"/>'s poll and queues its HEADERS; false when the connection is full or
    /// closing (try another one). On success the exchange is pending and completes, fails or is cancelled.
    /// </summary>
    public bool TryOpen(PollExchange exchange)
    {
        lock (_lock)
        {
            if (_closing || _streams.Count >= _maxStreams)
            {
                return false;
            }

            if (!exchange.TryBegin(this))
            {
                throw new InvalidOperationException("A poll of this bot is still pending.");
            }

            var id = _nextStreamId;
            _nextStreamId += 2;
            if (_nextStreamId > int.MaxValue - 2)
            {
                _closing = true; // out of stream ids: the pool opens another connection
            }

            exchange.StreamId = id;
            _streams.Add(id, exchange);
            WriteRequestHeaders(id, exchange.Path);
            ScheduleFlush();
            return true;
        }
    }

    /// <summary>The exchange's poll was cancelled: forget its stream and reset it, so the server stops waiting.</summary>
    public void Abandon(PollExchange exchange)
    {
        lock (_lock)
        {
            if (_streams.Remove(exchange.StreamId) && _failure is null)
            {
                BinaryPrimitives.WriteInt32BigEndian(ReserveFrame(4, RstStream, 0, exchange.StreamId), CancelError);
                ScheduleFlush();
                NoteIdle();
            }
        }
    }

    /// <summary>
    /// Keep-alive and lifetime, called about once a second by the pool: a PING after <paramref name="pingDelay"/>
    /// without a frame from the server, closed when it is not answered within <paramref name="pingTimeout"/>; no new
    /// streams after <paramref name="lifetime"/>; closed once idle for <paramref name="idleTimeout"/> or draining and empty.
    /// </summary>
    /// <returns>False once the connection is closed, for the pool to drop it.</returns>
    public bool Tick(long now, TimeSpan pingDelay, TimeSpan pingTimeout, TimeSpan lifetime, TimeSpan idleTimeout)
    {
        Exception? abort = null;
        lock (_lock)
        {
            if (_failure is not null)
            {
                return false;
            }

            if (_pingSentTicks != 0 && now - _pingSentTicks > (long)pingTimeout.TotalMilliseconds)
            {
                abort = new IOException($"The HTTP/2 connection did not answer a keep-alive PING within {pingTimeout.TotalSeconds:0} s.");
            }
            else
            {
                if (_pingSentTicks == 0 && now - Volatile.Read(ref _lastReceivedTicks) > (long)pingDelay.TotalMilliseconds)
                {
                    _pingSentTicks = now;
                    BinaryPrimitives.WriteInt64BigEndian(ReserveFrame(8, Ping, 0, 0), now);
                    ScheduleFlush();
                }

                if (now - _createdTicks > (long)lifetime.TotalMilliseconds)
                {
                    _closing = true;
                }

                if (_streams.Count == 0 && (_closing || now - _idleSinceTicks > (long)idleTimeout.TotalMilliseconds))
                {
                    abort = new IOException("The HTTP/2 connection was closed as idle.");
                }
            }
        }

        if (abort is null)
        {
            return true;
        }

        Abort(abort);
        return false;
    }

    /// <summary>Closes the connection, failing every pending poll with <paramref name="error"/> (each is retried by its bot).</summary>
    public void Abort(Exception error)
    {
        PollExchange[] failed;
        lock (_lock)
        {
            if (_failure is not null)
            {
                return;
            }

            _failure = error;
            _closing = true;
            failed = [.. _streams.Values];
            _streams.Clear();
        }

        _stream.Dispose();
        _settingsReceived.TrySetException(error);
        foreach (var exchange in failed)
        {
            exchange.Fail(error);
        }
    }

    private void WriteRequestHeaders(int streamId, ReadOnlySpan<byte> path)
    {
        // HPACK without the dynamic table: :method GET (static 2) and :scheme https (static 7) indexed, :authority
        // (static name 1) and :path (static name 4) as literals without indexing, not Huffman-coded.
        var length = 2 + _authorityField.Length + 1 + LengthPrefixSize(path.Length) + path.Length;
        var block = ReserveFrame(length, Headers, EndStream | EndHeaders, streamId);
        block[0] = 0x82;
        block[1] = 0x87;
        _authorityField.CopyTo(block[2..]);
        var position = 2 + _authorityField.Length;
        block[position++] = 0x04;
        position += WriteLengthPrefix(block[position..], path.Length);
        path.CopyTo(block[position..]);
    }

    /// <summary>An HPACK literal field without indexing, name from the static table, raw value.</summary>
    internal static byte[] LiteralField(int staticNameIndex, ReadOnlySpan<byte> value)
    {
        var field = new byte[1 + LengthPrefixSize(value.Length) + value.Length];
        field[0] = (byte)staticNameIndex;
        var position = 1 + WriteLengthPrefix(field.AsSpan(1), value.Length);
        value.CopyTo(field.AsSpan(position));
        return field;
    }

    /// <summary>Bytes of an HPACK string length (a 7-bit-prefix integer, RFC 7541 5.1) for <paramref name="length"/>.</summary>
    private static int LengthPrefixSize(int length)
    {
        if (length < 0x7F)
        {
            return 1;
        }

        var size = 2;
        for (length -= 0x7F; length >= 0x80; length >>= 7)
        {
            size++;
        }

        return size;
    }

    /// <summary>Writes an HPACK string length, not Huffman-coded; returns the bytes written.</summary>
    private static int WriteLengthPrefix(Span<byte> destination, int length)
    {
        if (length < 0x7F)
        {
            destination[0] = (byte)length;
            return 1;
        }

        destination[0] = 0x7F;
        var position = 1;
        for (length -= 0x7F; length >= 0x80; length >>= 7)
        {
            destination[position++] = (byte)((length & 0x7F) | 0x80);
        }

        destination[position++] = (byte)length;
        return position;
    }

    private static void WriteSetting(Span<byte> destination, ushort id, int value)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, id);
        BinaryPrimitives.WriteInt32BigEndian(destination[2..], value);
    }

    /// <summary>Reserves a frame with a <paramref name="length"/>-byte payload in the output; returns the payload. Under the lock.</summary>
    private Span<byte> ReserveFrame(int length, byte type, byte flags, int streamId)
    {
        var frame = Reserve(FrameHeaderLength + length);
        frame[0] = (byte)(length >> 16);
        frame[1] = (byte)(length >> 8);
        frame[2] = (byte)length;
        frame[3] = type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame[5..], streamId);
        return frame[FrameHeaderLength..];
    }

    private Span<byte> Reserve(int length)
    {
        if (_outLength + length > _out.Length)
        {
            Array.Resize(ref _out, Math.Max(_outLength + length, _out.Length * 2));
        }

        var span = _out.AsSpan(_outLength, length);
        _outLength += length;
        return span;
    }

    /// <summary>Starts a writer unless one is running; it writes until the output is empty. Under the lock.</summary>
    private void ScheduleFlush()
    {
        if (!_writing)
        {
            _writing = true;
            ThreadPool.UnsafeQueueUserWorkItem(static connection => _ = connection.FlushAsync(), this, preferLocal: false);
        }
    }

    private async Task FlushAsync()
    {
        try
        {
            while (true)
            {
                byte[] buffer;
                int length;
                lock (_lock)
                {
                    if (_outLength == 0 || _failure is not null)
                    {
                        _writing = false;
                        return;
                    }

                    (buffer, _out, _spare) = (_out, _spare, _out);
                    length = _outLength;
                    _outLength = 0;
                }

                await _stream.WriteAsync(buffer.AsMemory(0, length)).ConfigureAwait(false);
            }
        }
        catch (Exception ex)
        {
            Abort(new IOException($"Writing to the HTTP/2 connection failed: {ex.Message}", ex));
        }
    }

    private async Task ReadLoopAsync(Action<Http2PollConnection> closed)
    {
        var buffer = new byte[2 * (FrameHeaderLength + MaxFrameSize)];
        var start = 0;
        var end = 0;
        byte[]? headerBlock = null;
        var headerBlockLength = 0;
        var headerStream = 0;
        var headerEndStream = false;
        try
        {
            while (true)
            {
                while (end - start < FrameHeaderLength)
                {
                    (start, end) = await FillAsync(buffer, start, end).ConfigureAwait(false);
                }

                var length = (buffer[start] << 16) | (buffer[start + 1] << 8) | buffer[start + 2];
                var type = buffer[start + 3];
                var flags = buffer[start + 4];
                var streamId = BinaryPrimitives.ReadInt32BigEndian(buffer.AsSpan(start + 5)) & int.MaxValue;
                if (length > MaxFrameSize)
                {
                    throw new InvalidDataException("HTTP/2: frame larger than the announced maximum.");
                }

                while (end - start < FrameHeaderLength + length)
                {
                    (start, end) = await FillAsync(buffer, start, end).ConfigureAwait(false);
                }

                Volatile.Write(ref _lastReceivedTicks, Environment.TickCount64);
                ReadOnlySpan<byte> payload = buffer.AsSpan(start + FrameHeaderLength, length);
                start += FrameHeaderLength + length;

                if (headerStream != 0 && type != Continuation)
                {
                    throw new InvalidDataException("HTTP/2: header block interrupted.");
                }

                switch (type)
                {
                    case Data:
                        OnData(streamId, flags, payload);
                        break;
                    case Headers:
                    case Continuation:
                        if (type == Continuation && (headerStream == 0 || streamId != headerStream))
                        {
                            throw new InvalidDataException("HTTP/2: unexpected CONTINUATION.");
                        }

                        if (type == Headers)
                        {
                            payload = Unpad(payload, flags, priority: (flags & Priority) != 0);
                            headerStream = streamId;
                            headerEndStream = (flags & EndStream) != 0;
                            headerBlockLength = 0;
                        }

                        if ((flags & EndHeaders) != 0 && headerBlockLength == 0)
                        {
                            OnHeaders(streamId, payload, headerEndStream);
                            headerStream = 0;
                        }
                        else
                        {
                            headerBlock ??= new byte[MaxFrameSize];
                            if (headerBlockLength + payload.Length > MaxHeaderBlock)
                            {
                                throw new InvalidDataException("HTTP/2: response header block too large.");
                            }

                            if (headerBlockLength + payload.Length > headerBlock.Length)
                            {
                                Array.Resize(ref headerBlock, headerBlockLength + payload.Length);
                            }

                            payload.CopyTo(headerBlock.AsSpan(headerBlockLength));
                            headerBlockLength += payload.Length;
                            if ((flags & EndHeaders) != 0)
                            {
                                OnHeaders(streamId, headerBlock.AsSpan(0, headerBlockLength), headerEndStream);
                                headerStream = 0;
                                headerBlockLength = 0;
                            }
                        }

                        break;
                    case RstStream:
                        OnReset(streamId, payload);
                        break;
                    case Settings:
                        OnSettings(flags, payload);
                        break;
                    case PushPromise:
                        throw new InvalidDataException("HTTP/2: PUSH_PROMISE although push was disabled.");
                    case Ping:
                        OnPing(flags, payload);
                        break;
                    case GoAway:
                        OnGoAway(payload);
                        break;
                    default:
                        break; // PRIORITY, WINDOW_UPDATE (nothing is sent with a body) and unknown types
                }
            }
        }
        catch (Exception ex)
        {
            Abort(ex as IOException ?? new IOException($"The HTTP/2 connection failed: {ex.Message}", ex));
        }
        finally
        {
            closed(this);
        }
    }

    private async ValueTask<(int Start, int End)> FillAsync(byte[] buffer, int start, int end)
    {
        if (end == buffer.Length || start > buffer.Length / 2)
        {
            buffer.AsSpan(start, end - start).CopyTo(buffer);
            end -= start;
            start = 0;
        }

        var read = await _stream.ReadAsync(buffer.AsMemory(end)).ConfigureAwait(false);
        if (read == 0)
        {
            throw new IOException("The server closed the HTTP/2 connection.");
        }

        return (start, end + read);
    }

    private static ReadOnlySpan<byte> Unpad(ReadOnlySpan<byte> payload, byte flags, bool priority)
    {
        var padding = 0;
        if ((flags & Padded) != 0)
        {
            if (payload.IsEmpty)
            {
                throw new InvalidDataException("HTTP/2: padded frame without a pad length.");
            }

            padding = payload[0];
            payload = payload[1..];
        }

        if (priority)
        {
            if (payload.Length < 5)
            {
                throw new InvalidDataException("HTTP/2: HEADERS too short for its priority.");
            }

            payload = payload[5..];
        }

        if (padding > payload.Length)
        {
            throw new InvalidDataException("HTTP/2: padding longer than the frame.");
        }

        return payload[..^padding];
    }

    private void OnData(int streamId, byte flags, ReadOnlySpan<byte> payload)
    {
        var flowed = payload.Length;
        var data = Unpad(payload, flags, priority: false);
        PollExchange? completed = null;
        PollExchange? refused = null;
        lock (_lock)
        {
            _connectionUnacknowledged += flowed;
            if (_connectionUnacknowledged >= ConnectionWindow / 2)
            {
                BinaryPrimitives.WriteInt32BigEndian(ReserveFrame(4, WindowUpdate, 0, 0), _connectionUnacknowledged);
                _connectionUnacknowledged = 0;
                ScheduleFlush();
            }

            if (_streams.TryGetValue(streamId, out var exchange))
            {
                if (!exchange.Append(data, MaxBody))
                {
                    _streams.Remove(streamId);
                    BinaryPrimitives.WriteInt32BigEndian(ReserveFrame(4, RstStream, 0, streamId), CancelError);
                    ScheduleFlush();
                    refused = exchange;
                }
                else if ((flags & EndStream) != 0)
                {
                    _streams.Remove(streamId);
                    completed = exchange;
                }
                else if ((exchange.Unacknowledged += flowed) >= StreamWindow / 2)
                {
                    BinaryPrimitives.WriteInt32BigEndian(ReserveFrame(4, WindowUpdate, 0, streamId), exchange.Unacknowledged);
                    exchange.Unacknowledged = 0;
                    ScheduleFlush();
                }

                NoteIdle();
            }
        }

        refused?.Fail(new InvalidDataException($"The getUpdates answer is larger than {MaxBody >> 20} MiB."));
        completed?.Complete();
    }

    private void OnHeaders(int streamId, ReadOnlySpan<byte> block, bool endStream)
    {
        // Decoded whatever the stream: the block is valid or the connection is not (RFC 9113, 4.3).
        var status = HpackStatus.Read(block);
        PollExchange? completed = null;
        lock (_lock)
        {
            if (!_streams.TryGetValue(streamId, out var exchange))
            {
                return;
            }

            if (status is >= 200 && exchange.Status == 0)
            {
                exchange.Status = status;
            }

            if (endStream)
            {
                _streams.Remove(streamId);
                completed = exchange;
                NoteIdle();
            }
        }

        if (completed is { Status: 0 })
        {
            completed.Fail(new InvalidDataException("The HTTP/2 response ended without a status."));
        }
        else
        {
            completed?.Complete();
        }
    }

    private void OnReset(int streamId, ReadOnlySpan<byte> payload)
    {
        if (payload.Length != 4)
        {
            throw new InvalidDataException("HTTP/2: RST_STREAM of a wrong size.");
        }

        var code = BinaryPrimitives.ReadInt32BigEndian(payload);
        PollExchange? reset;
        lock (_lock)
        {
            if (!_streams.Remove(streamId, out reset))
            {
                return;
            }

            NoteIdle();
        }

        // REFUSED_STREAM: not processed, safe to send again at once.
        reset.Fail(code == RefusedStreamError ? new RefusedStreamException() : new IOException($"The server reset the HTTP/2 stream (error {code})."));
    }

    private void OnSettings(byte flags, ReadOnlySpan<byte> payload)
    {
        if ((flags & Ack) != 0)
        {
            return;
        }

        if (payload.Length % 6 != 0)
        {
            throw new InvalidDataException("HTTP/2: SETTINGS of a wrong size.");
        }

        lock (_lock)
        {
            for (var i = 0; i < payload.Length; i += 6)
            {
                var id = BinaryPrimitives.ReadUInt16BigEndian(payload[i..]);
                var value = BinaryPrimitives.ReadUInt32BigEndian(payload[(i + 2)..]);
                if (id == 0x3)
                {
                    _maxStreams = (int)Math.Min(value, int.MaxValue);
                }
            }

            ReserveFrame(0, Settings, Ack, 0);
            ScheduleFlush();
        }

        _settingsReceived.TrySetResult();
    }

    private void OnPing(byte flags, ReadOnlySpan<byte> payload)
    {
        if (payload.Length != 8)
        {
            throw new InvalidDataException("HTTP/2: PING of a wrong size.");
        }

        lock (_lock)
        {
            if ((flags & Ack) != 0)
            {
                _pingSentTicks = 0;
                return;
            }

            payload.CopyTo(ReserveFrame(8, Ping, Ack, 0));
            ScheduleFlush();
        }
    }

    private void OnGoAway(ReadOnlySpan<byte> payload)
    {
        if (payload.Length < 8)
        {
            throw new InvalidDataException("HTTP/2: GOAWAY too short.");
        }

        var lastStreamId = BinaryPrimitives.ReadInt32BigEndian(payload) & int.MaxValue;
        List<PollExchange>? unprocessed = null;
        lock (_lock)
        {
            _closing = true;
            foreach (var (id, exchange) in _streams)
            {
                if (id > lastStreamId)
                {
                    (unprocessed ??= []).Add(exchange);
                }
            }

            if (unprocessed is not null)
            {
                foreach (var exchange in unprocessed)
                {
                    _streams.Remove(exchange.StreamId);
                }
            }

            NoteIdle();
        }

        // Streams above the last one the server processed were never seen by it: sent again on another connection.
        foreach (var exchange in unprocessed ?? [])
        {
            exchange.Fail(new RefusedStreamException());
        }
    }

    /// <summary>Records when the connection became empty. Under the lock.</summary>
    private void NoteIdle()
    {
        if (_streams.Count == 0)
        {
            _idleSinceTicks = Environment.TickCount64;
        }
    }
}

/// <summary>The server did not process the request (REFUSED_STREAM, or above a GOAWAY's last stream): send it again.</summary>
internal sealed class RefusedStreamException() : IOException("The server refused the HTTP/2 stream before processing it.");

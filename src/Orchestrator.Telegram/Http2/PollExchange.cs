using System.Threading.Tasks.Sources;

namespace Orchestrator.Telegram.Http2;

/// <summary>
/// One bot's long poll over <see cref="Http2PollClient"/>, reused for every poll of that bot: the request path, the
/// response body and the awaitable live here, allocated once, so a pending poll allocates nothing that a garbage
/// collection would have to promote. One poll at a time.
/// </summary>
internal sealed class PollExchange : IValueTaskSource<int>
{
    private const int Idle = 0;
    private const int Pending = 1;
    private const int Done = 2;

    /// <summary>A body buffer larger than this is not kept for the next poll.</summary>
    private const int MaxKeptBody = 16 << 10;

    private ManualResetValueTaskSourceCore<int> _core = new() { RunContinuationsAsynchronously = true };
    private CancellationTokenRegistration _registration;
    private CancellationToken _cancellation;
    private Http2PollConnection? _connection;
    private int _state;

    private byte[] _path = new byte[256];
    private byte[] _body = new byte[256];
    private int _bodyLength;

    /// <summary>The request's <c>:path</c> (ASCII), written by the caller through <see cref="PathBuffer"/>.</summary>
    public ReadOnlySpan<byte> Path => _path.AsSpan(0, PathLength);

    /// <summary>Length of <see cref="Path"/>: set by the caller once it wrote the path.</summary>
    public int PathLength { get; set; }

    /// <summary>The response body, valid once the poll completed and until the next one.</summary>
    public ReadOnlySpan<byte> Body => _body.AsSpan(0, _bodyLength);

    /// <summary>The response's status, 0 until its headers arrived (connection-owned while the poll is pending).</summary>
    internal int Status;

    /// <summary>The stream this poll runs on (connection-owned; read and written under the connection's lock).</summary>
    internal int StreamId;

    /// <summary>Bytes received on the stream since its window was last replenished (connection-owned).</summary>
    internal int Unacknowledged;

    /// <summary>Whether a poll is in progress (pending, or answered but not yet read).</summary>
    public bool IsBusy => Volatile.Read(ref _state) != Idle;

    /// <summary>Room for the next poll's path, at least <paramref name="length"/> bytes (the buffer grows if needed).</summary>
    public Span<byte> PathBuffer(int length)
    {
        if (_path.Length < length)
        {
            _path = new byte[Math.Max(length, _path.Length * 2)];
        }

        return _path.AsSpan(0, length);
    }

    /// <summary>Prepares a poll on <paramref name="connection"/>; false if a poll is still pending.</summary>
    internal bool TryBegin(Http2PollConnection connection)
    {
        if (Interlocked.CompareExchange(ref _state, Pending, Idle) != Idle)
        {
            return false;
        }

        _core.Reset();
        _connection = connection;
        Status = 0;
        _bodyLength = 0;
        Unacknowledged = 0;
        return true;
    }

    /// <summary>Arms cancellation once the stream is open, and returns the awaitable.</summary>
    internal ValueTask<int> Await(CancellationToken cancellationToken)
    {
        _cancellation = cancellationToken;
        if (cancellationToken.CanBeCanceled)
        {
            _registration = cancellationToken.UnsafeRegister(static state => ((PollExchange)state!).OnCancelled(), this);
        }

        return new ValueTask<int>(this, _core.Version);
    }

    /// <summary>Lets go of a body buffer that one large answer grew, so an idle bot keeps a small one.</summary>
    public void TrimBody()
    {
        if (_body.Length > MaxKeptBody)
        {
            _body = new byte[256];
        }
    }

    /// <summary>Appends a DATA frame's payload to the body; false when the body would exceed <paramref name="limit"/>.</summary>
    internal bool Append(ReadOnlySpan<byte> data, int limit)
    {
        var needed = _bodyLength + data.Length;
        if (needed > limit)
        {
            return false;
        }

        if (needed > _body.Length)
        {
            Array.Resize(ref _body, Math.Max(needed, _body.Length * 2));
        }

        data.CopyTo(_body.AsSpan(_bodyLength));
        _bodyLength = needed;
        return true;
    }

    /// <summary>Completes the poll with its status (the connection removed its stream first).</summary>
    internal void Complete()
    {
        if (Interlocked.CompareExchange(ref _state, Done, Pending) == Pending)
        {
            _registration.Unregister();
            _core.SetResult(Status);
        }
    }

    /// <summary>Fails the poll (the connection removed its stream first).</summary>
    internal void Fail(Exception error)
    {
        if (Interlocked.CompareExchange(ref _state, Done, Pending) == Pending)
        {
            _registration.Unregister();
            _core.SetException(error);
        }
    }

    private void OnCancelled()
    {
        if (Interlocked.CompareExchange(ref _state, Done, Pending) == Pending)
        {
            _connection?.Abandon(this);
            _core.SetException(new OperationCanceledException(_cancellation));
        }
    }

    int IValueTaskSource<int>.GetResult(short token)
    {
        try
        {
            return _core.GetResult(token);
        }
        finally
        {
            // Registered after an answer that came first, the callback would stay on the bot's reused token source.
            _registration.Unregister();
            _connection = null;
            _registration = default;
            _cancellation = default;
            Volatile.Write(ref _state, Idle);
        }
    }

    ValueTaskSourceStatus IValueTaskSource<int>.GetStatus(short token) => _core.GetStatus(token);

    void IValueTaskSource<int>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _core.OnCompleted(continuation, state, token, flags);
}

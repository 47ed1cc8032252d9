using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;

namespace Orchestrator.Telegram.Http2;

/// <summary>
/// The long polls' HTTP/2 client: a few TLS connections, each carrying many bots' pending getUpdates, where a pending
/// poll costs no allocation at all (its state is the bot's <see cref="PollExchange"/>). Through
/// <see cref="SocketsHttpHandler"/> every poll allocated a request, a stream, a response, headers and the state machines
/// of four async methods, all alive for up to 50 s; with thousands of polls started each second, every gen 0 garbage
/// collection had to promote those started since the last one, and that is what made its pauses.
/// <para>
/// It speaks only what a long poll needs: GET without a body, over TLS with ALPN <c>h2</c>. When the server does not
/// offer <c>h2</c> it says so (<see cref="IsUnsupported"/>) and the caller uses <see cref="SocketsHttpHandler"/>.
/// </para>
/// </summary>
internal sealed class Http2PollClient : IDisposable
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan ConnectTimeout = TimeSpan.FromSeconds(10);

    /// <summary>After a failed connect, other polls fail at once for this long rather than each trying in turn.</summary>
    private static readonly TimeSpan ConnectFailureHold = TimeSpan.FromSeconds(1);

    private readonly string _host;
    private readonly int _port;
    private readonly byte[] _authorityField;
    private readonly RemoteCertificateValidationCallback? _validate;
    private readonly TimeSpan _pingDelay;
    private readonly TimeSpan _pingTimeout;
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private readonly Lock _connectionsLock = new();
    private readonly Timer _timer;
    private volatile Http2PollConnection[] _connections = [];
    private (long Ticks, Exception Error)? _lastConnectFailure;
    private volatile bool _unsupported;
    private volatile bool _disposed;

    public Http2PollClient(Uri baseUri, RemoteCertificateValidationCallback? validate, TimeSpan pingDelay, TimeSpan pingTimeout)
    {
        _host = baseUri.IdnHost;
        _port = baseUri.Port;
        _validate = validate;
        _pingDelay = pingDelay;
        _pingTimeout = pingTimeout;
        _authorityField = Http2PollConnection.LiteralField(1, Encoding.ASCII.GetBytes(baseUri.IsDefaultPort ? _host : $"{_host}:{_port}"));
        _timer = new Timer(static client => ((Http2PollClient)client!).Tick(), this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>True once the server turned out not to speak HTTP/2 over TLS: the caller should use HTTP/1.1.</summary>
    public bool IsUnsupported => _unsupported;

    /// <summary>Connections open now (for tests and diagnostics).</summary>
    public int ConnectionCount => _connections.Length;

    /// <summary>
    /// Sends <paramref name="exchange"/>'s poll and waits for the answer: its status; the body is in the exchange. Without
    /// an async frame of its own when a connection has room, so a pending poll holds nothing new. Throws
    /// <see cref="OperationCanceledException"/> when cancelled, <see cref="RefusedStreamException"/> when the server did
    /// not process it (send it again), <see cref="NotSupportedException"/> when the server does not speak HTTP/2, and an
    /// <see cref="IOException"/> (or the connect's exception) for transport trouble.
    /// </summary>
    public ValueTask<int> SendAsync(PollExchange exchange, CancellationToken cancellationToken)
    {
        if (cancellationToken.IsCancellationRequested)
        {
            return ValueTask.FromCanceled<int>(cancellationToken);
        }

        return FindOpen(exchange) is not null ? exchange.Await(cancellationToken) : ConnectAndSendAsync(exchange, cancellationToken);
    }

    private async ValueTask<int> ConnectAndSendAsync(PollExchange exchange, CancellationToken cancellationToken)
    {
        await ConnectAsync(exchange, cancellationToken).ConfigureAwait(false);
        return await exchange.Await(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Opens the poll's stream on the first connection with room; null if there is none.</summary>
    private Http2PollConnection? FindOpen(PollExchange exchange)
    {
        foreach (var connection in _connections)
        {
            if (connection.TryOpen(exchange))
            {
                return connection;
            }
        }

        return null;
    }

    private async ValueTask<Http2PollConnection> ConnectAsync(PollExchange exchange, CancellationToken cancellationToken)
    {
        await _connecting.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            // Another poll may have opened one meanwhile.
            if (FindOpen(exchange) is { } opened)
            {
                return opened;
            }

            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_unsupported)
            {
                throw new NotSupportedException("The Bot API server does not offer HTTP/2 over TLS.");
            }

            if (_lastConnectFailure is { } failure && Environment.TickCount64 - failure.Ticks < ConnectFailureHold.TotalMilliseconds)
            {
                throw new IOException($"Connecting to the Bot API failed: {failure.Error.Message}", failure.Error);
            }

            Http2PollConnection connection;
            try
            {
                connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                if (ex is not NotSupportedException)
                {
                    _lastConnectFailure = (Environment.TickCount64, ex);
                }

                throw;
            }

            _lastConnectFailure = null;
            lock (_connectionsLock)
            {
                _connections = [.. _connections, connection];
            }

            if (!connection.TryOpen(exchange))
            {
                throw new IOException("The new HTTP/2 connection closed at once or takes no streams.");
            }

            return connection;
        }
        finally
        {
            _connecting.Release();
        }
    }

    private async Task<Http2PollConnection> OpenAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ConnectTimeout);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        SslStream? tls = null;
        try
        {
            await socket.ConnectAsync(new DnsEndPoint(_host, _port), timeout.Token).ConfigureAwait(false);
            tls = new SslStream(new NetworkStream(socket, ownsSocket: true));
            await tls.AuthenticateAsClientAsync(
                new SslClientAuthenticationOptions
                {
                    TargetHost = _host,
                    // HTTP/1.1 offered too: a server that speaks only that may refuse a handshake that offers h2 alone.
                    ApplicationProtocols = [SslApplicationProtocol.Http2, SslApplicationProtocol.Http11],
                    RemoteCertificateValidationCallback = _validate,
                },
                timeout.Token).ConfigureAwait(false);
            if (tls.NegotiatedApplicationProtocol != SslApplicationProtocol.Http2)
            {
                _unsupported = true;
                throw new NotSupportedException("The Bot API server does not offer HTTP/2 over TLS.");
            }

            var connection = Http2PollConnection.Start(tls, _authorityField, Closed);
            try
            {
                await connection.SettingsReceived.WaitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                connection.Abort(new IOException("The Bot API server sent no HTTP/2 SETTINGS.", ex));
                throw;
            }

            return connection;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            tls?.Dispose();
            socket.Dispose();
            throw new IOException($"Connecting to the Bot API timed out after {ConnectTimeout.TotalSeconds:0} s.");
        }
        catch
        {
            tls?.Dispose();
            socket.Dispose();
            throw;
        }
    }

    private void Closed(Http2PollConnection connection)
    {
        lock (_connectionsLock)
        {
            _connections = [.. _connections.Where(c => c != connection)];
        }
    }

    private void Tick()
    {
        var now = Environment.TickCount64;
        foreach (var connection in _connections)
        {
            if (!connection.Tick(now, _pingDelay, _pingTimeout, Lifetime, IdleTimeout))
            {
                Closed(connection);
            }
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _timer.Dispose();
        foreach (var connection in _connections)
        {
            connection.Abort(new ObjectDisposedException(nameof(Http2PollClient)));
        }
    }
}

using System.Net;
using System.Net.Sockets;

namespace Orchestrator.Tests.Infrastructure;

/// <summary>
/// A TCP path to a local port that can go silent: it forwards bytes both ways until <see cref="StallOpenConnections"/>,
/// after which the connections open at that moment stay open but carry nothing (a dead peer or a dropped path that
/// sends no FIN or RST). Connections made afterwards are forwarded normally.
/// </summary>
internal sealed class StallingTcpProxy : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly int _targetPort;
    private readonly Lock _sync = new();
    private readonly List<Link> _links = [];
    private readonly CancellationTokenSource _stop = new();
    private Task _accepting = Task.CompletedTask;

    private StallingTcpProxy(int targetPort) => _targetPort = targetPort;

    /// <summary>The port to connect to instead of the target's.</summary>
    public int Port { get; private set; }

    /// <summary>Connections accepted so far.</summary>
    public int ConnectionCount
    {
        get
        {
            lock (_sync)
            {
                return _links.Count;
            }
        }
    }

    /// <summary>Listens on 127.0.0.1 and forwards every connection to 127.0.0.1:<paramref name="targetPort"/>.</summary>
    public static StallingTcpProxy Start(int targetPort)
    {
        var proxy = new StallingTcpProxy(targetPort);
        proxy._listener.Start();
        proxy.Port = ((IPEndPoint)proxy._listener.LocalEndpoint).Port;
        proxy._accepting = proxy.AcceptAsync(proxy._stop.Token);
        return proxy;
    }

    /// <summary>Stops forwarding on every connection open now, without closing any of them.</summary>
    public void StallOpenConnections()
    {
        lock (_sync)
        {
            foreach (var link in _links)
            {
                link.Forwarding.Cancel();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        lock (_sync)
        {
            foreach (var link in _links)
            {
                link.Dispose();
            }
        }

        _stop.Dispose();
    }

    private async Task AcceptAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            var client = await _listener.AcceptTcpClientAsync(stop);
            var server = new TcpClient();
            try
            {
                await server.ConnectAsync(IPAddress.Loopback, _targetPort, stop);
            }
            catch (SocketException)
            {
                // The target refused: so does the proxy.
                client.Dispose();
                server.Dispose();
                continue;
            }

            var link = new Link(client, server);
            lock (_sync)
            {
                _links.Add(link);
            }

            _ = PumpAsync(client.GetStream(), server.GetStream(), link.Forwarding.Token);
            _ = PumpAsync(server.GetStream(), client.GetStream(), link.Forwarding.Token);
        }
    }

    private static async Task PumpAsync(NetworkStream from, NetworkStream to, CancellationToken forwarding)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await from.ReadAsync(buffer, forwarding)) > 0)
            {
                await to.WriteAsync(buffer.AsMemory(0, read), forwarding);
            }

            to.Socket.Shutdown(SocketShutdown.Send);
        }
        catch (OperationCanceledException)
        {
            // Stalled: both sockets stay open and nothing is forwarded any more.
        }
        catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException)
        {
            // One side went away (or the proxy is disposed): the link is over.
        }
    }

    private sealed class Link(TcpClient client, TcpClient server) : IDisposable
    {
        public CancellationTokenSource Forwarding { get; } = new();

        public void Dispose()
        {
            Forwarding.Cancel();
            client.Dispose();
            server.Dispose();
            Forwarding.Dispose();
        }
    }
}

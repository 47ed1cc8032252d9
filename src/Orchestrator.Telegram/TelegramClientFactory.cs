using System.Net;
using Microsoft.Extensions.Options;
using Telegram.Bot;

namespace Orchestrator.Telegram;

/// <summary>
/// Creates <see cref="ITelegramBotClient"/>s that all share ONE <see cref="HttpClient"/> for thousands of bots, with
/// two connection pools behind it: one for the long polls and one for every other call (see
/// <see cref="SplitPoolHandler"/>). The HTTP client has no logging handler: Bot API URLs contain the token.
/// </summary>
public sealed class TelegramClientFactory : IDisposable
{
    /// <summary>
    /// Connections for calls other than getUpdates (per server; with HTTP/2 each carries many requests). Enough for
    /// thousands of replies per second; past it requests wait for a connection instead of opening ever more.
    /// </summary>
    internal const int MaxCallConnections = 256;

    private readonly HttpClient _httpClient;
    private readonly string _baseUrl;

    /// <summary>Creates the factory and its shared HTTP client from the options.</summary>
    public TelegramClientFactory(IOptions<TelegramClientOptions> options)
        : this(options.Value, new SplitPoolHandler(
            polls: CreateHandler(options.Value, maxConnections: int.MaxValue),
            calls: CreateHandler(options.Value, MaxCallConnections)))
    {
    }

    /// <summary>For tests: route every request through <paramref name="handler"/>.</summary>
    internal TelegramClientFactory(TelegramClientOptions options, HttpMessageHandler handler)
    {
        _baseUrl = options.BaseUrl;
        HttpMessageHandler pipeline = new CallTimeoutHandler(handler, options.CallTimeout);
        if (options.UseHttp2)
        {
            pipeline = new Http2Handler(pipeline);
        }

        // No HttpClient.Timeout: it would arm a timer for every request, long polls included, and thousands of idle
        // bots keep thousands of polls open. Calls get their timeout from CallTimeoutHandler; a poll is bounded by
        // its bot's deadline, which the silo's watchdog enforces without a timer per poll.
        _httpClient = new HttpClient(pipeline, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The shared HTTP client (configured once; it has no timeout of its own, see <see cref="CallTimeoutHandler"/>).</summary>
    public HttpClient HttpClient => _httpClient;

    /// <summary>
    /// A client for one bot. Built-in 429 retries are off (<c>RetryThreshold = 0</c>): the caller owns retries.
    /// Throws <see cref="ArgumentException"/> ("Bot token invalid", without the token) for a malformed token.
    /// </summary>
    public ITelegramBotClient Create(string token)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        var options = new TelegramBotClientOptions(token, _baseUrl) { RetryThreshold = 0 };
        return new TelegramBotClient(options, _httpClient);
    }

    /// <inheritdoc />
    public void Dispose() => _httpClient.Dispose();

    private static SocketsHttpHandler CreateHandler(TelegramClientOptions options, int maxConnections)
    {
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            PooledConnectionLifetime = TimeSpan.FromMinutes(3),
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(1),
            ConnectTimeout = TimeSpan.FromSeconds(10),
            // Neither redirects nor compressed bodies: the Bot API answers small JSON in place. Each of the two handlers
            // adds a state machine to every request, and a long poll keeps its request graph alive (through a GC or
            // two) for up to the poll timeout: with 10,000 polls that graph is what every collection promotes.
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            EnableMultipleHttp2Connections = true,

            // HTTP/2 multiplexes many bots' long polls on one connection, and cancelling a hung request only resets
            // its stream: the connection stays in the pool and takes the next polls too. A connection that went
            // silent (dead peer, dropped path) would hold every bot on it until PooledConnectionLifetime. A PING
            // that is not answered in time closes it, failing its requests, which the callers retry on a new one.
            KeepAlivePingDelay = options.Http2KeepAlivePingDelay,
            KeepAlivePingTimeout = options.Http2KeepAlivePingTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
        };
        if (options.TrustedCertificateFile is { } file)
        {
            if (TelegramCertificateTrust.TryLoad(file, out var trusted) is { } problem)
            {
                throw new InvalidOperationException($"TELEGRAM_CA_CERT_FILE {problem}.");
            }

            handler.SslOptions.RemoteCertificateValidationCallback = new TelegramCertificateTrust(trusted).Validate;
        }

        return handler;
    }

    /// <summary>
    /// Sends getUpdates through one connection pool and every other Bot API call through another. Over HTTP/1.1 a long
    /// poll holds its connection for up to the poll timeout: with one pool, a reply found every connection busy with a
    /// poll, opened a new one (over TLS, a handshake), and that connection then went on to carry a long poll, so under
    /// load the pool churned thousands of connections a second. Split, the calls' pool stays small and warm; over
    /// HTTP/2 the replies also never wait for a stream slot on a connection full of polls.
    /// </summary>
    private sealed class SplitPoolHandler(HttpMessageHandler polls, HttpMessageHandler calls) : HttpMessageHandler
    {
        private readonly HttpMessageInvoker _polls = new(polls);
        private readonly HttpMessageInvoker _calls = new(calls);

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            (IsPoll(request.RequestUri) ? _polls : _calls).SendAsync(request, cancellationToken);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _polls.Dispose();
                _calls.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private static bool IsPoll(Uri? uri) => uri is not null && uri.AbsolutePath.EndsWith("/getUpdates", StringComparison.Ordinal);

    /// <summary>
    /// Times out every call but getUpdates, the whole exchange including the response body (read here, so the timeout
    /// covers it), as <see cref="HttpClient.Timeout"/> would: the caller sees a <see cref="TaskCanceledException"/>
    /// whose token is not its own, which Telegram.Bot reports as "Bot API Request timed out".
    /// </summary>
    private sealed class CallTimeoutHandler(HttpMessageHandler inner, TimeSpan timeout) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken) =>
            IsPoll(request.RequestUri) ? base.SendAsync(request, cancellationToken) : SendWithTimeoutAsync(request, cancellationToken);

        private async Task<HttpResponseMessage> SendWithTimeoutAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            HttpResponseMessage? response = null;
            try
            {
                response = await base.SendAsync(request, deadline.Token).ConfigureAwait(false);
                await response.Content.LoadIntoBufferAsync(deadline.Token).ConfigureAwait(false);
                return response;
            }
            catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
            {
                response?.Dispose();
                throw new TaskCanceledException($"The Bot API request did not complete within {timeout.TotalSeconds:0} s.", new TimeoutException(null, ex));
            }
            catch
            {
                response?.Dispose();
                throw;
            }
        }
    }

    /// <summary>Asks for HTTP/2 on every request, accepting HTTP/1.1 when the server does not speak it.</summary>
    private sealed class Http2Handler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            request.Version = HttpVersion.Version20;
            request.VersionPolicy = HttpVersionPolicy.RequestVersionOrLower;
            return base.SendAsync(request, cancellationToken);
        }
    }
}

using System.Net;
using System.Net.Security;
using Microsoft.Extensions.Options;
using Orchestrator.Telegram.Http2;
using Telegram.Bot;
using Telegram.Bot.Types.Enums;

namespace Orchestrator.Telegram;

/// <summary>
/// Creates the Bot API clients of thousands of bots over two shared connection pools: the long polls'
/// (<see cref="TelegramPoller"/>) and every other call's (<see cref="ITelegramBotClient"/>s sharing ONE
/// <see cref="HttpClient"/>). Over HTTP/1.1 a long poll holds its connection for up to the poll timeout: with one pool,
/// a reply found every connection busy with a poll, opened a new one (over TLS, a handshake), and that connection then
/// went on to carry a long poll, so under load the pool churned thousands of connections a second. Split, the calls'
/// pool stays small and warm; over HTTP/2 the replies also never wait for a stream slot on a connection full of polls.
/// Neither pool has a logging handler: Bot API URLs contain the token.
/// </summary>
public sealed class TelegramClientFactory : IDisposable
{
    /// <summary>
    /// Connections for calls other than getUpdates (per server; with HTTP/2 each carries many requests). Enough for
    /// thousands of replies per second; past it requests wait for a connection instead of opening ever more.
    /// </summary>
    internal const int MaxCallConnections = 256;

    private readonly HttpClient _httpClient;
    private readonly HttpMessageInvoker _polls;
    private readonly Http2PollClient? _leanPolls;
    private readonly string _baseUrl;
    private readonly bool _http2;

    /// <summary>Creates the factory and its two connection pools from the options.</summary>
    public TelegramClientFactory(IOptions<TelegramClientOptions> options)
        : this(
            options.Value,
            polls: new HttpMessageInvoker(CreateHandler(options.Value, maxConnections: int.MaxValue), disposeHandler: true),
            calls: CreateHandler(options.Value, MaxCallConnections))
    {
    }

    /// <summary>For tests: send every request, long polls and calls, through <paramref name="handler"/>.</summary>
    internal TelegramClientFactory(TelegramClientOptions options, HttpMessageHandler handler)
        : this(options, polls: new HttpMessageInvoker(handler, disposeHandler: false), calls: handler)
    {
    }

    private TelegramClientFactory(TelegramClientOptions options, HttpMessageInvoker polls, HttpMessageHandler calls)
    {
        _baseUrl = options.BaseUrl;
        _http2 = options.UseHttp2;
        _polls = polls;
        var baseUri = new Uri(options.BaseUrl);
        if (options.UseHttp2 && options.LeanPolls && baseUri.Scheme == Uri.UriSchemeHttps && HttpClient.DefaultProxy.IsBypassed(baseUri))
        {
            _leanPolls = new Http2PollClient(baseUri, CertificateValidation(options), options.Http2KeepAlivePingDelay, options.Http2KeepAlivePingTimeout);
        }

        HttpMessageHandler pipeline = new CallTimeoutHandler(calls, options.CallTimeout);
        if (options.UseHttp2)
        {
            pipeline = new Http2Handler(pipeline);
        }

        // No HttpClient.Timeout: it would arm a timer for every request. Calls get their timeout from
        // CallTimeoutHandler; a long poll is bounded by its bot's deadline, which the silo's watchdog enforces without
        // a timer per poll.
        _httpClient = new HttpClient(pipeline, disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Connections of the long polls' own HTTP/2 client open now (0 when it is not in use).</summary>
    internal int LeanPollConnections => _leanPolls?.ConnectionCount ?? 0;

    /// <summary>The calls' shared HTTP client (configured once; it has no timeout of its own, see <see cref="CallTimeoutHandler"/>).</summary>
    public HttpClient HttpClient => _httpClient;

    /// <summary>
    /// A client for one bot's calls other than its long polls. Built-in 429 retries are off (<c>RetryThreshold = 0</c>):
    /// the caller owns retries. Throws <see cref="ArgumentException"/> ("Bot token invalid", without the token) for a
    /// malformed token.
    /// </summary>
    public ITelegramBotClient Create(string token) => new TelegramBotClient(ClientOptions(token), _httpClient);

    /// <summary>
    /// The long poller of one bot, receiving <paramref name="allowedUpdates"/>. Throws <see cref="ArgumentException"/>
    /// (without the token) for a malformed token.
    /// </summary>
    public TelegramPoller CreatePoller(string token, IEnumerable<UpdateType> allowedUpdates) =>
        new(_polls, ClientOptions(token).BaseRequestUrl, allowedUpdates, _http2, _leanPolls);

    private TelegramBotClientOptions ClientOptions(string token)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(token);
        return new TelegramBotClientOptions(token, _baseUrl) { RetryThreshold = 0 };
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _httpClient.Dispose();
        _polls.Dispose();
        _leanPolls?.Dispose();
    }

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
        handler.SslOptions.RemoteCertificateValidationCallback = CertificateValidation(options);
        return handler;
    }

    /// <summary>The test-only trust of <see cref="TelegramClientOptions.TrustedCertificateFile"/>, or null: the system's.</summary>
    private static RemoteCertificateValidationCallback? CertificateValidation(TelegramClientOptions options)
    {
        if (options.TrustedCertificateFile is not { } file)
        {
            return null;
        }

        if (TelegramCertificateTrust.TryLoad(file, out var trusted) is { } problem)
        {
            throw new InvalidOperationException($"TELEGRAM_CA_CERT_FILE {problem}.");
        }

        return new TelegramCertificateTrust(trusted).Validate;
    }

    /// <summary>
    /// Times out every call, the whole exchange including the response body (read here, so the timeout covers it), as
    /// <see cref="HttpClient.Timeout"/> would: the caller sees a <see cref="TaskCanceledException"/> whose token is not
    /// its own, which Telegram.Bot reports as "Bot API Request timed out".
    /// </summary>
    private sealed class CallTimeoutHandler(HttpMessageHandler inner, TimeSpan timeout) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
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
            AskForHttp2(request);
            return base.SendAsync(request, cancellationToken);
        }
    }

    /// <summary>HTTP/2 for <paramref name="request"/>, or HTTP/1.1 when the server does not offer it (calls and long polls alike).</summary>
    internal static void AskForHttp2(HttpRequestMessage request)
    {
        request.Version = HttpVersion.Version20;
        request.VersionPolicy = HttpVersionPolicy.RequestVersionOrLower;
    }
}

using System.Globalization;
using System.Net;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Unicode;
using Orchestrator.Telegram.Http2;
using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace Orchestrator.Telegram;

/// <summary>
/// One bot's getUpdates, the lean way: a GET whose parameters are in the query of a URI that is built once per offset,
/// sent straight to the long polls' connection pool, or over TLS + HTTP/2 through the service's own client
/// (<see cref="Http2PollClient"/>), with a path rewritten in place in the bot's one <see cref="PollExchange"/>. Ten
/// thousand idle bots keep ten thousand polls pending, and every object a pending poll holds is copied by each garbage
/// collection that finds it young; through <see cref="TelegramBotClient"/> and <see cref="HttpClient"/> a poll also held
/// a JSON request body, its headers, two linked cancellation sources and three more async state machines, about 40 %
/// of its graph.
/// <para>
/// Failures are Telegram.Bot's: an <see cref="ApiRequestException"/> (with <c>ErrorCode</c> and <c>Parameters</c>) when
/// Telegram answered with an error, a <see cref="RequestException"/> for transport trouble or a body that is not a Bot
/// API answer, and an <see cref="OperationCanceledException"/> when the caller's token was cancelled. No message
/// carries the URI, which holds the token.
/// </para>
/// </summary>
public sealed class TelegramPoller
{
    /// <summary>Telegram's default and maximum <c>limit</c>: not sent.</summary>
    private const int DefaultLimit = 100;

    private readonly HttpMessageInvoker _invoker;
    private readonly Http2PollClient? _lean;
    private readonly string _prefix;
    private readonly string _pathPrefix;
    private readonly string _allowedUpdates;
    private readonly bool _http2;
    private Query? _last;
    private PollExchange? _exchange;
    private (int Offset, int Limit, int Timeout, bool AllowedUpdates)? _exchangeQuery;
    private volatile bool _allowedUpdatesSet;

    /// <param name="invoker">The long polls' connection pool.</param>
    /// <param name="botRequestUrl">The bot's Bot API URL, <c>{base}/bot{token}</c>.</param>
    /// <param name="allowedUpdates">The update types to receive.</param>
    /// <param name="http2">Ask for HTTP/2, accepting HTTP/1.1.</param>
    /// <param name="lean">The long polls' own HTTP/2 client, when the server is reached over TLS without a proxy.</param>
    internal TelegramPoller(HttpMessageInvoker invoker, string botRequestUrl, IEnumerable<UpdateType> allowedUpdates, bool http2, Http2PollClient? lean = null)
    {
        _invoker = invoker;
        _http2 = http2;
        _lean = lean;
        _allowedUpdates = "&allowed_updates=" + Uri.EscapeDataString(JsonSerializer.Serialize(allowedUpdates, JsonBotAPI.Options));
        _prefix = $"{botRequestUrl}/getUpdates?";
        _pathPrefix = new Uri(_prefix).AbsolutePath + "?";
    }

    /// <summary>
    /// getUpdates: the updates from <paramref name="offset"/> on (which also confirms those below it), at most
    /// <paramref name="limit"/>, waiting up to <paramref name="timeout"/> seconds for one to arrive. Await it once.
    /// </summary>
    /// <remarks>
    /// A pooled <see cref="ValueTask{TResult}"/>, not a <see cref="Task{TResult}"/>: a task would keep its result. A
    /// long poll's task is old by the time Telegram answers (a collection or two promoted it while it waited), so the
    /// answered updates hang off an old object: each gen 0 collection then keeps them as if they were live, and copies
    /// them onwards, until a gen 2 collection finds the task dead. That was a third of what gen 0 collections promoted
    /// under load. The pooled box drops its result once it has been awaited. Over the own HTTP/2 client
    /// (<see cref="Http2PollClient"/>) a pending poll allocates nothing else either.
    /// </remarks>
    public ValueTask<Update[]> GetUpdatesAsync(int offset, int limit, int timeout, CancellationToken cancellationToken) =>
        _lean is { IsUnsupported: false } lean
            ? GetUpdatesLeanAsync(lean, offset, limit, timeout, cancellationToken)
            : GetUpdatesHttpAsync(offset, limit, timeout, cancellationToken);

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Update[]> GetUpdatesLeanAsync(Http2PollClient lean, int offset, int limit, int timeout, CancellationToken cancellationToken)
    {
        if (_exchange is null or { IsBusy: true })
        {
            _exchange = new PollExchange();
            _exchangeQuery = null;
        }

        var exchange = _exchange;
        WritePath(exchange, offset, limit, timeout);
        int status;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                status = await lean.SendAsync(exchange, cancellationToken).ConfigureAwait(false);
                break;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (RefusedStreamException) when (attempt < 3)
            {
                // Not processed by the server: sent again.
            }
            catch (NotSupportedException)
            {
                // The server did not negotiate HTTP/2: from now on every poll of the silo goes through the handler.
                return await GetUpdatesHttpAsync(offset, limit, timeout, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                throw new RequestException($"Bot API Service Failure: {ex.GetType().Name}: {ex.Message}", ex);
            }
        }

        Answer? parsed;
        try
        {
            parsed = JsonSerializer.Deserialize<Answer>(exchange.Body, JsonBotAPI.Options);
        }
        catch (Exception ex)
        {
            throw new RequestException("There was an exception during deserialization of the response", (HttpStatusCode)status, ex);
        }
        finally
        {
            exchange.TrimBody();
        }

        return Interpret(parsed, (HttpStatusCode)status);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<Update[]> GetUpdatesHttpAsync(int offset, int limit, int timeout, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, UriFor(offset, limit, timeout));
        if (_http2)
        {
            TelegramClientFactory.AskForHttp2(request);
        }

        HttpResponseMessage response;
        try
        {
            response = await _invoker.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex)
        {
            throw new RequestException($"Bot API Service Failure: {ex.GetType().Name}: {ex.Message}", ex);
        }

        using (response)
        {
            Answer? answer;
            try
            {
                // The Bot API answers UTF-8 JSON: read it as such, without parsing Content-Type for a charset.
                var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                answer = await JsonSerializer.DeserializeAsync<Answer>(body, JsonBotAPI.Options, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception ex)
            {
                throw new RequestException("There was an exception during deserialization of the response", response.StatusCode, ex);
            }

            return Interpret(answer, response.StatusCode);
        }
    }

    private Update[] Interpret(Answer? answer, HttpStatusCode status) => answer switch
    {
        { Ok: true, Result: { } updates } when status == HttpStatusCode.OK => Received(updates),
        { Ok: false, ErrorCode: not 0, Description: { } description } when status != HttpStatusCode.OK =>
            throw new ApiRequestException(description, answer.ErrorCode, answer.Parameters),
        _ => throw new RequestException("Required properties not found in response", status),
    };

    /// <summary>
    /// Writes the poll's <c>:path</c> into <paramref name="exchange"/>, unless it repeats the last one (the same
    /// parameters as <see cref="UriFor"/>, without allocating).
    /// </summary>
    private void WritePath(PollExchange exchange, int offset, int limit, int timeout)
    {
        var allowedUpdates = !_allowedUpdatesSet;
        var query = (offset, limit, timeout, allowedUpdates);
        if (_exchangeQuery == query)
        {
            return;
        }

        var length = _pathPrefix.Length + 64 + (allowedUpdates ? _allowedUpdates.Length : 0);
        var buffer = exchange.PathBuffer(length);
        var limitParameter = limit == DefaultLimit ? -1 : limit;
        var written = Utf8.TryWrite(
            buffer,
            CultureInfo.InvariantCulture,
            $"{_pathPrefix}offset={offset}&timeout={timeout}",
            out var position);
        if (written && limitParameter >= 0)
        {
            written = Utf8.TryWrite(buffer[position..], CultureInfo.InvariantCulture, $"&limit={limitParameter}", out var more);
            position += more;
        }

        if (written && allowedUpdates)
        {
            written = Utf8.TryWrite(buffer[position..], CultureInfo.InvariantCulture, $"{_allowedUpdates}", out var more);
            position += more;
        }

        if (!written)
        {
            throw new InvalidOperationException("The getUpdates path did not fit its buffer.");
        }

        exchange.PathLength = position;
        _exchangeQuery = query;
    }

    private Update[] Received(Update[] updates)
    {
        _allowedUpdatesSet = true;
        return updates;
    }

    /// <summary>
    /// The URI of the last query, reused while it repeats (an idle bot polls with one offset for hours). As short as
    /// it can be, since every pending poll holds it: no default <c>limit</c>, and <c>allowed_updates</c> only until
    /// Telegram has answered once, as Telegram keeps the last setting for polls that omit it.
    /// </summary>
    private Uri UriFor(int offset, int limit, int timeout)
    {
        var last = _last;
        var allowedUpdates = !_allowedUpdatesSet;
        if (last is null || last.Offset != offset || last.Limit != limit || last.Timeout != timeout || last.AllowedUpdates != allowedUpdates)
        {
            var limitParameter = limit == DefaultLimit ? null : string.Create(CultureInfo.InvariantCulture, $"&limit={limit}");
            var uri = new Uri(string.Create(
                CultureInfo.InvariantCulture,
                $"{_prefix}offset={offset}&timeout={timeout}{limitParameter}{(allowedUpdates ? _allowedUpdates : null)}"));
            _last = last = new Query(offset, limit, timeout, allowedUpdates, uri);
        }

        return last.Uri;
    }

    private sealed record Query(int Offset, int Limit, int Timeout, bool AllowedUpdates, Uri Uri);

    /// <summary>The Bot API envelope: <c>{"ok":true,"result":[…]}</c> or <c>{"ok":false,"error_code":…,"description":…}</c>.</summary>
    private sealed class Answer
    {
        public bool Ok { get; init; }

        public Update[]? Result { get; init; }

        public int ErrorCode { get; init; }

        public string? Description { get; init; }

        public ResponseParameters? Parameters { get; init; }
    }
}

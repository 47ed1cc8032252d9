using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Orchestrator.Tests.Telegram;

/// <summary>A request as the stub saw it (body read eagerly).</summary>
internal sealed record RecordedRequest(HttpMethod Method, Uri Uri, IReadOnlyDictionary<string, string> Headers, string Body)
{
    /// <summary>The Bot API method: the last path segment.</summary>
    public string BotMethod => Uri.Segments[^1];

    public JsonObject Json => JsonNode.Parse(Body)!.AsObject();

    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>An HttpMessageHandler that answers from a function and records every request.</summary>
internal sealed class StubHttpHandler(Func<RecordedRequest, int, Task<HttpResponseMessage>> respond) : HttpMessageHandler
{
    private int _calls;

    public StubHttpHandler(Func<RecordedRequest, int, HttpResponseMessage> respond)
        : this((request, index) => Task.FromResult(respond(request, index)))
    {
    }

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public IReadOnlyList<RecordedRequest> Sent => [.. Requests];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? string.Empty : await request.Content.ReadAsStringAsync(cancellationToken);
        var headers = request.Headers.ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        var recorded = new RecordedRequest(request.Method, request.RequestUri!, headers, body);
        Requests.Enqueue(recorded);
        var index = Interlocked.Increment(ref _calls) - 1;
        var response = await respond(recorded, index);
        response.RequestMessage ??= request;
        return response;
    }

    public static HttpResponseMessage Json(HttpStatusCode status, string json) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
}

/// <summary>Telegram-shaped answers.</summary>
internal static class Tg
{
    public const string Token = "1001:test-token-secret";

    /// <summary>One private text message, update 7.</summary>
    public const string OneUpdate =
        """[{"update_id":7,"message":{"message_id":1,"date":1700000000,"chat":{"id":42,"type":"private"},"text":"hi"}}]""";

    /// <summary>The Bot API's success envelope around <paramref name="resultJson"/>.</summary>
    public static string OkJson(string resultJson) => $$"""{"ok":true,"result":{{resultJson}}}""";

    /// <summary>The Bot API's error envelope.</summary>
    public static string ErrorJson(int code, string description, string? parameters = null) =>
        $$"""{"ok":false,"error_code":{{code}},"description":"{{description}}"{{(parameters is null ? "" : $",\"parameters\":{parameters}")}}}""";

    public static HttpResponseMessage Ok(string resultJson) => StubHttpHandler.Json(HttpStatusCode.OK, OkJson(resultJson));

    public static HttpResponseMessage True() => Ok("true");

    public static HttpResponseMessage SentMessage(int messageId, long chatId = 42) =>
        Ok($$"""{"message_id":{{messageId}},"date":1700000000,"chat":{"id":{{chatId}},"type":"private"},"text":"x"}""");

    public static HttpResponseMessage Error(int code, string description, string? parameters = null) =>
        StubHttpHandler.Json((HttpStatusCode)code, ErrorJson(code, description, parameters));
}

/// <summary>
/// A TimeProvider whose timers fire at once and record their due time: code that waits through
/// <c>Task.Delay(delay, timeProvider)</c> runs without real waiting, and tests can assert how long it would have waited.
/// </summary>
internal sealed class InstantTimeProvider : TimeProvider
{
    public ConcurrentQueue<TimeSpan> Delays { get; } = new();

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        Delays.Enqueue(dueTime);
        if (dueTime != Timeout.InfiniteTimeSpan)
        {
            ThreadPool.QueueUserWorkItem(_ => callback(state));
        }

        return new NoopTimer();
    }

    private sealed class NoopTimer : ITimer
    {
        public bool Change(TimeSpan dueTime, TimeSpan period) => true;

        public void Dispose()
        {
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}

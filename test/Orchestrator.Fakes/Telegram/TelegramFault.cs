namespace Orchestrator.Fakes.Telegram;

/// <summary>
/// A fault applied to the next matching Bot API calls (see <see cref="TelegramEmulator.InjectFault"/>).
/// Order of effects: <see cref="Delay"/>, then <see cref="Hang"/>, <see cref="DropConnection"/>, <see cref="RawBody"/>
/// or a Telegram error envelope when <see cref="StatusCode"/> is set. A fault with only a delay lets the call proceed normally afterwards.
/// A fault never touches the update queue, so a failed getUpdates consumes nothing.
/// </summary>
public sealed record TelegramFault
{
    /// <summary>HTTP status and <c>error_code</c> of the error; null: no error envelope.</summary>
    public int? StatusCode { get; init; }

    /// <summary>The <c>description</c>; null: Telegram's usual text for <see cref="StatusCode"/>.</summary>
    public string? Description { get; init; }

    /// <summary><c>parameters.retry_after</c> in seconds.</summary>
    public int? RetryAfter { get; init; }

    /// <summary><c>parameters.migrate_to_chat_id</c>.</summary>
    public long? MigrateToChatId { get; init; }

    /// <summary>A raw, non-Telegram body (for example an HTML 502 page) sent with <see cref="StatusCode"/> (default 502).</summary>
    public string? RawBody { get; init; }

    /// <summary>Content type of <see cref="RawBody"/>.</summary>
    public string RawContentType { get; init; } = "text/html";

    /// <summary>Wait this long before answering.</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>Never answer: the request stays open until the client gives up or the emulator is disposed, then the connection is aborted.</summary>
    public bool Hang { get; init; }

    /// <summary>Abort the connection without a response (<c>HttpContext.Abort()</c>).</summary>
    public bool DropConnection { get; init; }

    /// <summary>How many matching calls this fault applies to (default 1); <see cref="int.MaxValue"/>: until cleared.</summary>
    public int Times { get; init; } = 1;

    /// <summary>429 "Too Many Requests: retry after N" with <c>parameters.retry_after</c>.</summary>
    public static TelegramFault TooManyRequests(int retryAfter, int times = 1) =>
        new() { StatusCode = 429, RetryAfter = retryAfter, Description = $"Too Many Requests: retry after {retryAfter}", Times = times };

    /// <summary>401 "Unauthorized".</summary>
    public static TelegramFault Unauthorized(int times = 1) => new() { StatusCode = 401, Times = times };

    /// <summary>403 "Forbidden: bot was blocked by the user" (or another description).</summary>
    public static TelegramFault Forbidden(string description = "Forbidden: bot was blocked by the user", int times = 1) =>
        new() { StatusCode = 403, Description = description, Times = times };

    /// <summary>409 Conflict as another poller would cause.</summary>
    public static TelegramFault Conflict(int times = 1) => new() { StatusCode = 409, Times = times };

    /// <summary>400 with a description, e.g. "Bad Request: message thread not found".</summary>
    public static TelegramFault BadRequest(string description, int times = 1) => new() { StatusCode = 400, Description = description, Times = times };

    /// <summary>400 "Bad Request: group chat was upgraded to a supergroup chat" with <c>parameters.migrate_to_chat_id</c>.</summary>
    public static TelegramFault Migrated(long newChatId, int times = 1) =>
        new() { StatusCode = 400, MigrateToChatId = newChatId, Description = "Bad Request: group chat was upgraded to a supergroup chat", Times = times };

    /// <summary>A Telegram-shaped 5xx (default 500 "Internal Server Error").</summary>
    public static TelegramFault ServerError(int statusCode = 500, int times = 1) => new() { StatusCode = statusCode, Times = times };

    /// <summary>An HTML 502 page from a proxy: Telegram.Bot cannot parse it.</summary>
    public static TelegramFault HtmlBadGateway(int times = 1) => new()
    {
        StatusCode = 502,
        RawBody = "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n",
        Times = times,
    };

    /// <summary>Answer normally after a delay.</summary>
    public static TelegramFault Delayed(TimeSpan delay, int times = 1) => new() { Delay = delay, Times = times };

    /// <summary>Never answer.</summary>
    public static TelegramFault Hung(int times = 1) => new() { Hang = true, Times = times };

    /// <summary>Drop the connection.</summary>
    public static TelegramFault Dropped(int times = 1) => new() { DropConnection = true, Times = times };
}

using System.Text.RegularExpressions;
using Telegram.Bot.Exceptions;

namespace Orchestrator.Telegram;

/// <summary>What kind of failure a Telegram call ended with.</summary>
public enum TelegramErrorKind
{
    /// <summary>Not a known category (e.g. a 404 from the Bot API).</summary>
    Other = 0,

    /// <summary>401: the token was revoked or is wrong. Retrying does not help.</summary>
    Unauthorized,

    /// <summary>403: the bot was blocked by the user or removed from the group.</summary>
    Forbidden,

    /// <summary>409: another getUpdates poller (or a webhook) uses the token.</summary>
    Conflict,

    /// <summary>429: flood control; wait <see cref="TelegramError.RetryAfter"/>.</summary>
    TooManyRequests,

    /// <summary>400 without a migration hint; see the <c>Is…</c> helpers of <see cref="TelegramError"/>.</summary>
    BadRequest,

    /// <summary>The group became a supergroup; resend to <see cref="TelegramError.MigrateToChatId"/>.</summary>
    MigrateToChat,

    /// <summary>5xx answered by the Bot API.</summary>
    ServerError,

    /// <summary>No Telegram answer: connection error, proxy HTML page, malformed body, HTTP client timeout.</summary>
    Transport,

    /// <summary>The caller cancelled.</summary>
    Cancelled,
}

/// <summary>A classified Telegram failure. <see cref="Description"/> is redacted: no token, no Bot API URL.</summary>
public sealed record TelegramError(
    TelegramErrorKind Kind,
    int? ErrorCode,
    string Description,
    TimeSpan? RetryAfter = null,
    long? MigrateToChatId = null)
{
    /// <summary>400 "message thread not found": resend without the thread.</summary>
    public bool IsThreadNotFound => IsBadRequestWith("message thread not found");

    /// <summary>400 "message to be replied not found": resend without the reply.</summary>
    public bool IsReplyNotFound => IsBadRequestWith("message to be replied not found")
        || IsBadRequestWith("replied message not found");

    /// <summary>400 "can't parse entities": resend as plain text.</summary>
    public bool IsCantParseEntities => IsBadRequestWith("can't parse entities");

    /// <summary>Worth retrying the same request later (5xx, transport, 429, 409).</summary>
    public bool IsTransient => Kind is TelegramErrorKind.ServerError or TelegramErrorKind.Transport
        or TelegramErrorKind.TooManyRequests or TelegramErrorKind.Conflict;

    private bool IsBadRequestWith(string fragment) =>
        Kind == TelegramErrorKind.BadRequest && Description.Contains(fragment, StringComparison.OrdinalIgnoreCase);
}

/// <summary>Classifies Telegram.Bot exceptions and removes tokens from text meant for logs.</summary>
public static partial class TelegramErrors
{
    /// <summary>Used when a 429 carries no <c>retry_after</c>.</summary>
    public static readonly TimeSpan DefaultRetryAfter = TimeSpan.FromSeconds(3);

    /// <summary>
    /// Classifies an exception thrown by an <c>ITelegramBotClient</c> call.
    /// An <see cref="ApiRequestException"/> means Telegram answered: its <c>ErrorCode</c> decides
    /// (its <c>HttpStatusCode</c> is always null). Any other <see cref="RequestException"/> is transport trouble.
    /// </summary>
    public static TelegramError Classify(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var description = Redact(exception.Message);
        switch (exception)
        {
            case OperationCanceledException:
                return new TelegramError(TelegramErrorKind.Cancelled, null, description);
            case ApiRequestException api:
                if (api.Parameters?.MigrateToChatId is { } newChatId)
                {
                    return new TelegramError(TelegramErrorKind.MigrateToChat, api.ErrorCode, description, MigrateToChatId: newChatId);
                }

                return api.ErrorCode switch
                {
                    401 => new TelegramError(TelegramErrorKind.Unauthorized, 401, description),
                    403 => new TelegramError(TelegramErrorKind.Forbidden, 403, description),
                    409 => new TelegramError(TelegramErrorKind.Conflict, 409, description),
                    429 => new TelegramError(TelegramErrorKind.TooManyRequests, 429, description,
                        RetryAfter: api.Parameters?.RetryAfter is int seconds and >= 0 ? TimeSpan.FromSeconds(seconds) : DefaultRetryAfter),
                    400 => new TelegramError(TelegramErrorKind.BadRequest, 400, description),
                    >= 500 and <= 599 => new TelegramError(TelegramErrorKind.ServerError, api.ErrorCode, description),
                    _ => new TelegramError(TelegramErrorKind.Other, api.ErrorCode, description),
                };
            case RequestException request:
                // Not a Telegram-shaped answer: connection refused, an HTML page from a proxy, a body without
                // error_code, or the HttpClient timeout ("Bot API Request timed out"; the caller's own
                // cancellation is not wrapped). HttpStatusCode is set when some HTTP answer came back.
                return new TelegramError(TelegramErrorKind.Transport, (int?)request.HttpStatusCode, description);
            case HttpRequestException http:
                return new TelegramError(TelegramErrorKind.Transport, (int?)http.StatusCode, description);
            default:
                return new TelegramError(TelegramErrorKind.Other, null, description);
        }
    }

    /// <summary>
    /// Removes anything that looks like a bot token (<c>123456:AA…</c>) or a Bot API path (<c>/bot&lt;token&gt;/</c>,
    /// <c>/file/bot&lt;token&gt;/</c>) from <paramref name="text"/>; also the exact <paramref name="token"/> when given.
    /// </summary>
    public static string Redact(string? text, string? token = null)
    {
        if (string.IsNullOrEmpty(text))
        {
            return string.Empty;
        }

        if (!string.IsNullOrEmpty(token))
        {
            text = text.Replace(token, "***", StringComparison.Ordinal);
        }

        text = BotPathRegex().Replace(text, "bot***");
        return TokenRegex().Replace(text, "***");
    }

    // "bot" followed by a token-shaped segment, e.g. in https://api.telegram.org/bot123:abc/getMe.
    [GeneratedRegex(@"bot\d{1,16}:[^/\s?#""']+", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex BotPathRegex();

    // A bare token: digits, a colon and a long secret (real secrets are 35 characters).
    [GeneratedRegex(@"\b\d{3,16}:[A-Za-z0-9_-]{20,}", RegexOptions.CultureInvariant)]
    private static partial Regex TokenRegex();
}

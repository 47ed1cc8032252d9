using System.ComponentModel.DataAnnotations;
using Microsoft.Extensions.Options;

namespace Orchestrator.Telegram;

/// <summary>
/// Settings of the shared Telegram Bot API HTTP client (environment: <c>TELEGRAM_API_URL</c>).
/// </summary>
public sealed class TelegramClientOptions
{
    /// <summary>Default Bot API base URL.</summary>
    public const string DefaultBaseUrl = "https://api.telegram.org";

    /// <summary>Bot API base URL: the real API, a self-hosted Bot API server or an emulator. Default <c>https://api.telegram.org</c>.</summary>
    public string BaseUrl { get; set; } = DefaultBaseUrl;

    /// <summary>Long-poll timeout passed to <c>getUpdates</c>, in seconds. Default 50, range 1..50 (Telegram caps it at 50).</summary>
    [Range(1, 50)]
    public int PollTimeoutSeconds { get; set; } = 50;

    /// <summary>
    /// Ask for HTTP/2 on every request (<c>RequestVersionOrLower</c>: HTTP/1.1 when the server does not offer it), so
    /// the long polls of many bots share a few connections (<c>TELEGRAM_HTTP2</c>). Default false.
    /// </summary>
    public bool UseHttp2 { get; set; }

    /// <summary>
    /// HTTP/2 over TLS only: the long polls use the service's own HTTP/2 client (<c>TELEGRAM_LEAN_POLLS</c>, default
    /// true), in which a pending poll allocates nothing, instead of <see cref="SocketsHttpHandler"/>. Without a proxy;
    /// a server that does not offer <c>h2</c> is polled through <see cref="SocketsHttpHandler"/> anyway.
    /// </summary>
    public bool LeanPolls { get; set; } = true;

    /// <summary>
    /// HTTP/2 only: a connection that received no frame for this long is sent a PING (default 15 s, at least 1 s).
    /// See <see cref="Http2KeepAlivePingTimeout"/>.
    /// </summary>
    public TimeSpan Http2KeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// HTTP/2 only: a PING not answered within this closes the connection and fails its requests, so they are retried
    /// on a new one (default 10 s, at least 1 s). Delay plus timeout stays well below the long-poll deadline.
    /// </summary>
    public TimeSpan Http2KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Test only: a PEM or DER certificate file (e.g. the emulator's self-signed one) trusted as a root for the Bot API
    /// server, on top of the system's roots; the host name must still match (<c>TELEGRAM_CA_CERT_FILE</c>). Default
    /// null: only the system's roots.
    /// </summary>
    public string? TrustedCertificateFile { get; set; }

    /// <summary>
    /// The timeout of every Bot API call made through a bot's client, response body included (default 60 s). The
    /// getUpdates of <see cref="TelegramPoller"/> are bounded by their callers' deadlines instead.
    /// </summary>
    public TimeSpan CallTimeout { get; set; } = TimeSpan.FromSeconds(60);
}

/// <summary>Validates <see cref="TelegramClientOptions"/>, naming the setting to fix.</summary>
public sealed class TelegramClientOptionsValidator : IValidateOptions<TelegramClientOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, TelegramClientOptions options)
    {
        List<string> errors = [];
        if (!Uri.TryCreate(options.BaseUrl, UriKind.Absolute, out var uri)
            || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add("TELEGRAM_API_URL must be an absolute http:// or https:// URL.");
        }

        if (options.TrustedCertificateFile is { } file && TelegramCertificateTrust.TryLoad(file, out _) is { } problem)
        {
            errors.Add($"TELEGRAM_CA_CERT_FILE {problem}.");
        }

        if (options.PollTimeoutSeconds is < 1 or > 50)
        {
            errors.Add("The Telegram long-poll timeout must be between 1 and 50 seconds.");
        }

        if (options.CallTimeout <= TimeSpan.Zero)
        {
            errors.Add("The Bot API call timeout must be positive.");
        }

        if (options.Http2KeepAlivePingDelay < TimeSpan.FromSeconds(1) || options.Http2KeepAlivePingTimeout < TimeSpan.FromSeconds(1))
        {
            errors.Add("The HTTP/2 keep-alive ping delay and timeout must be at least 1 second.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

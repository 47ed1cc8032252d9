using System.Net;

namespace Orchestrator.Host.Options;

/// <summary>
/// The service's settings (SPEC §3), read from the environment variables named in <see cref="EnvVars"/> by
/// <see cref="ServiceSettingsBinder"/> and checked at start by <see cref="ServiceSettingsValidator"/>.
/// Secrets (<see cref="SensayApiKey"/>, <see cref="AuthToken"/>, <see cref="RedisConnectionString"/>,
/// <see cref="SensaySecretKey"/>) come from the environment only and are never logged.
/// </summary>
public sealed class ServiceSettings
{
    /// <summary><c>NODE_ENV</c>: development, production (default) or test.</summary>
    public string NodeEnv { get; set; } = "production";

    /// <summary><c>LOG_LEVEL</c>: trace, debug, info (default), warn, error, fatal.</summary>
    public LogLevel LogLevel { get; set; } = LogLevel.Information;

    /// <summary><c>SENSAY_API_URL</c>: Sensay API base URL; null: no upstream reload, the REST API alone defines the bots.</summary>
    public Uri? SensayApiUrl { get; set; }

    /// <summary><c>SENSAY_API_KEY</c> (secret): sent as <c>X-ORGANIZATION-SECRET</c>.</summary>
    public string? SensayApiKey { get; set; }

    /// <summary><c>TELEGRAM_SERVICE_NAME</c>: only replicas whose integration names this service run here.</summary>
    public string TelegramServiceName { get; set; } = "sensay-telegram-integrations";

    /// <summary><c>TELEGRAM_API_URL</c>: Bot API base URL (default https://api.telegram.org).</summary>
    public Uri TelegramApiUrl { get; set; } = new("https://api.telegram.org");

    /// <summary><c>TELEGRAM_POLL_TIMEOUT_S</c>: long-poll timeout of getUpdates, 1..50 s (default 50).</summary>
    public int TelegramPollTimeoutSeconds { get; set; } = 50;

    /// <summary>
    /// <c>TELEGRAM_HTTP2</c>: ask Telegram for HTTP/2 (HTTP/1.1 when not offered), so the long polls of many bots share a
    /// few connections. Default true: measured at 10,000 bots over TLS, 23 KiB per bot against 202 KiB over HTTP/1.1.
    /// </summary>
    public bool TelegramHttp2 { get; set; } = true;

    /// <summary>
    /// <c>TELEGRAM_LEAN_POLLS</c>: over HTTP/2 and TLS, long-poll through the service's own HTTP/2 client, in which a
    /// pending poll allocates nothing (default true); false polls through .NET's <c>SocketsHttpHandler</c>.
    /// </summary>
    public bool TelegramLeanPolls { get; set; } = true;

    /// <summary><c>TELEGRAM_CA_CERT_FILE</c> (test only): a PEM/DER certificate trusted as a root for the Bot API server, e.g. an emulator's. Default null.</summary>
    public string? TelegramCaCertFile { get; set; }

    /// <summary>
    /// <c>BOT_START_RATE</c>: bot loops started per second per silo, 0..100000; 0 = unpaced. Default (null) by
    /// transport, see <see cref="EffectiveBotStartRate"/>.
    /// </summary>
    public int? BotStartRate { get; set; }

    /// <summary>
    /// The start rate in force: <see cref="BotStartRate"/>, else 2,000/s with HTTP/2 (a start is a stream on a shared
    /// connection, no handshake: 10,000 bots poll within ~8 s of a reload) and 400/s with HTTP/1.1 (each start is a TLS
    /// handshake: unpaced, 10,000 starts took 125 s with ~5,000 handshake retries; 400/s took 33 s with none).
    /// </summary>
    public int EffectiveBotStartRate => BotStartRate ?? (TelegramHttp2 ? 2000 : 400);

    /// <summary><c>BOT_FIRST_POLL_JITTER_MS</c>: upper bound of a random delay before each bot's first poll, 0..300000 ms (default 0).</summary>
    public TimeSpan BotFirstPollJitter { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// <c>SENSAY_MAX_CONCURRENCY</c>: completions in flight at once on one silo, across all its bots, 1..100000
    /// (default 1,024); past it replies wait for a slot. Replies per second are at most this over the completion time.
    /// </summary>
    public int SensayMaxConcurrency { get; set; } = Orchestrator.Grains.Bots.BotOptions.DefaultMaxConcurrentCompletions;

    /// <summary>
    /// <c>DASHBOARD_ENABLED</c>: serve the Orleans Dashboard at <c>/dashboard</c>. Default true. Its per-second
    /// statistics cost a few tenths of a percent of a core and ~60 MiB at 10,000 bots on one silo (measured: 4.7 % idle
    /// without it, 4.9-5.2 % with it), so a dense fleet may turn it off and watch <c>/metrics</c> instead.
    /// </summary>
    public bool DashboardEnabled { get; set; } = true;

    /// <summary><c>DIAGNOSTICS_ENDPOINTS</c>: map the Bearer-protected <c>/_diagnostics</c> routes used by the benchmark. Default false.</summary>
    public bool DiagnosticsEndpoints { get; set; }

    /// <summary><c>HTTP_PORT</c>: port of the REST API, Swagger UI and dashboard, 1..65535 (default 3000).</summary>
    public int HttpPort { get; set; } = 3000;

    /// <summary><c>ORCHESTRATOR_AUTH_TOKEN</c> (secret): Bearer token for /bots; generated at start when unset.</summary>
    public string? AuthToken { get; set; }

    /// <summary>True when <see cref="AuthToken"/> was generated because <c>ORCHESTRATOR_AUTH_TOKEN</c> was unset.</summary>
    public bool AuthTokenGenerated { get; set; }

    /// <summary><c>RELOAD_BOTS_INTERVAL_MS</c>: period of the upstream reload (default 300 000 ms).</summary>
    public TimeSpan ReloadBotsInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary><c>PRINT_BOTS_STATUS_INTERVAL_MS</c>: period of the status table in the log (default 60 000 ms).</summary>
    public TimeSpan PrintBotsStatusInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary><c>HEALTH_CHECK_TIMEOUT_MS</c> (default 1000 ms).</summary>
    public TimeSpan HealthCheckTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary><c>HEALTH_CHECK_INTERVAL_MS</c> (default 5000 ms).</summary>
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary><c>GRACEFUL_SHUTDOWN_TIMEOUT_MS</c> (default 1000 ms, 0 allowed).</summary>
    public TimeSpan GracefulShutdownTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary><c>MAX_FAILED_RESTARTS</c>: consecutive failed restarts before a bot is failed, 1..1000 (default 3).</summary>
    public int MaxFailedRestarts { get; set; } = 3;

    /// <summary><c>REDIS_CONNECTION_STRING</c> (secret, may hold a password): cluster mode when set.</summary>
    public string? RedisConnectionString { get; set; }

    /// <summary><c>CLUSTER_ID</c> (default orchestrator).</summary>
    public string ClusterId { get; set; } = "orchestrator";

    /// <summary><c>SERVICE_ID</c> (default orchestrator). Changing it orphans the state stored in Redis.</summary>
    public string ServiceId { get; set; } = "orchestrator";

    /// <summary><c>SILO_PORT</c> (default 11111).</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary><c>GATEWAY_PORT</c> (default 30000).</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary><c>ADVERTISED_IP</c>: address other silos reach this one at; null: loopback (embedded) or the first non-loopback address (cluster).</summary>
    public IPAddress? AdvertisedIp { get; set; }

    /// <summary><c>SENSAY_URL</c>: optional base URL of the licence check.</summary>
    public Uri? SensayUrl { get; set; }

    /// <summary><c>SENSAY_SECRET_KEY</c> (secret): optional key of the licence check.</summary>
    public string? SensaySecretKey { get; set; }

    /// <summary>True in cluster mode (<c>REDIS_CONNECTION_STRING</c> set).</summary>
    public bool IsCluster => RedisConnectionString is not null;

    /// <summary>Problems found while reading the raw strings (not a number, malformed URL...), reported by the validator.</summary>
    internal List<string> BindingErrors { get; } = [];
}

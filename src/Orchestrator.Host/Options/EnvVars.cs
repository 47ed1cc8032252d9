namespace Orchestrator.Host.Options;

/// <summary>The environment variables of SPEC §3, spelled exactly as the seed spells them.</summary>
public static class EnvVars
{
    public const string NodeEnv = "NODE_ENV";
    public const string LogLevel = "LOG_LEVEL";
    public const string SensayApiUrl = "SENSAY_API_URL";
    public const string SensayApiKey = "SENSAY_API_KEY";
    public const string TelegramServiceName = "TELEGRAM_SERVICE_NAME";
    public const string TelegramApiUrl = "TELEGRAM_API_URL";
    public const string TelegramPollTimeoutSeconds = "TELEGRAM_POLL_TIMEOUT_S";
    public const string TelegramHttp2 = "TELEGRAM_HTTP2";
    public const string TelegramLeanPolls = "TELEGRAM_LEAN_POLLS";
    public const string TelegramCaCertFile = "TELEGRAM_CA_CERT_FILE";
    public const string BotStartRate = "BOT_START_RATE";
    public const string BotFirstPollJitterMs = "BOT_FIRST_POLL_JITTER_MS";
    public const string SensayMaxConcurrency = "SENSAY_MAX_CONCURRENCY";
    public const string DiagnosticsEndpoints = "DIAGNOSTICS_ENDPOINTS";
    public const string DashboardEnabled = "DASHBOARD_ENABLED";
    public const string HttpPort = "HTTP_PORT";
    public const string AuthToken = "ORCHESTRATOR_AUTH_TOKEN";
    public const string ReloadBotsIntervalMs = "RELOAD_BOTS_INTERVAL_MS";
    public const string PrintBotsStatusIntervalMs = "PRINT_BOTS_STATUS_INTERVAL_MS";
    public const string HealthCheckTimeoutMs = "HEALTH_CHECK_TIMEOUT_MS";
    public const string HealthCheckIntervalMs = "HEALTH_CHECK_INTERVAL_MS";
    public const string GracefulShutdownTimeoutMs = "GRACEFUL_SHUTDOWN_TIMEOUT_MS";
    public const string MaxFailedRestarts = "MAX_FAILED_RESTARTS";
    public const string RedisConnectionString = "REDIS_CONNECTION_STRING";
    public const string ClusterId = "CLUSTER_ID";
    public const string ServiceId = "SERVICE_ID";
    public const string SiloPort = "SILO_PORT";
    public const string GatewayPort = "GATEWAY_PORT";
    public const string AdvertisedIp = "ADVERTISED_IP";
    public const string SensayUrl = "SENSAY_URL";
    public const string SensaySecretKey = "SENSAY_SECRET_KEY";

    /// <summary>Variables whose values are never printed, not even in a configuration error.</summary>
    public static readonly IReadOnlySet<string> Secrets = new HashSet<string>(StringComparer.Ordinal)
    {
        SensayApiKey, AuthToken, RedisConnectionString, SensaySecretKey,
    };
}

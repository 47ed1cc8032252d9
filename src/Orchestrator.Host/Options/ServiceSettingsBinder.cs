using System.Globalization;
using System.Net;

namespace Orchestrator.Host.Options;

/// <summary>
/// Reads <see cref="ServiceSettings"/> from configuration by environment-variable name. Every value is read as a
/// string and parsed here, so a non-numeric or malformed value never throws: it becomes one line in
/// <see cref="ServiceSettings.BindingErrors"/>, which the validator reports together with every other problem.
/// Empty values count as unset.
/// </summary>
public static class ServiceSettingsBinder
{
    private static readonly Dictionary<string, string> Environments = new(StringComparer.OrdinalIgnoreCase)
    {
        ["development"] = Microsoft.Extensions.Hosting.Environments.Development,
        ["production"] = Microsoft.Extensions.Hosting.Environments.Production,
        ["test"] = "Test",
    };

    private static readonly Dictionary<string, LogLevel> LogLevels = new(StringComparer.OrdinalIgnoreCase)
    {
        ["trace"] = LogLevel.Trace,
        ["debug"] = LogLevel.Debug,
        ["info"] = LogLevel.Information,
        ["warn"] = LogLevel.Warning,
        ["error"] = LogLevel.Error,
        ["fatal"] = LogLevel.Critical,
    };

    /// <summary>The .NET environment name for a <c>NODE_ENV</c> value; null when unset or unknown.</summary>
    public static string? ToEnvironmentName(string? nodeEnv) =>
        nodeEnv is not null && Environments.TryGetValue(nodeEnv.Trim(), out var name) ? name : null;

    /// <summary>Reads a fresh <see cref="ServiceSettings"/> from <paramref name="configuration"/>.</summary>
    public static ServiceSettings Bind(IConfiguration configuration)
    {
        var options = new ServiceSettings();
        Bind(configuration, options);
        return options;
    }

    /// <summary>Reads <paramref name="options"/> from <paramref name="configuration"/>, recording problems instead of throwing.</summary>
    public static void Bind(IConfiguration configuration, ServiceSettings options)
    {
        var reader = new Reader(configuration, options.BindingErrors);

        if (reader.Get(EnvVars.NodeEnv) is { } nodeEnv)
        {
            if (ToEnvironmentName(nodeEnv) is null)
            {
                reader.Error(EnvVars.NodeEnv, "must be one of development, production, test");
            }
            else
            {
                options.NodeEnv = nodeEnv.Trim().ToLowerInvariant();
            }
        }

        if (reader.Get(EnvVars.LogLevel) is { } logLevel)
        {
            if (LogLevels.TryGetValue(logLevel.Trim(), out var level))
            {
                options.LogLevel = level;
            }
            else
            {
                reader.Error(EnvVars.LogLevel, "must be one of trace, debug, info, warn, error, fatal");
            }
        }

        options.SensayApiUrl = reader.Url(EnvVars.SensayApiUrl) ?? options.SensayApiUrl;
        options.SensayApiKey = reader.Get(EnvVars.SensayApiKey);
        options.TelegramServiceName = reader.Get(EnvVars.TelegramServiceName) ?? options.TelegramServiceName;
        options.TelegramApiUrl = reader.Url(EnvVars.TelegramApiUrl) ?? options.TelegramApiUrl;
        options.TelegramPollTimeoutSeconds = reader.Int(EnvVars.TelegramPollTimeoutSeconds, 1, 50, "seconds") ?? options.TelegramPollTimeoutSeconds;
        options.TelegramHttp2 = reader.Bool(EnvVars.TelegramHttp2) ?? options.TelegramHttp2;
        options.TelegramLeanPolls = reader.Bool(EnvVars.TelegramLeanPolls) ?? options.TelegramLeanPolls;
        options.TelegramCaCertFile = reader.Get(EnvVars.TelegramCaCertFile)?.Trim();
        options.BotStartRate = reader.Int(EnvVars.BotStartRate, 0, 100_000, "a rate in bots per second") ?? options.BotStartRate;
        options.BotFirstPollJitter = reader.Milliseconds(EnvVars.BotFirstPollJitterMs, 0, 300_000) ?? options.BotFirstPollJitter;
        options.SensayMaxConcurrency = reader.Int(EnvVars.SensayMaxConcurrency, 1, 100_000, "a number of completions") ?? options.SensayMaxConcurrency;
        options.DiagnosticsEndpoints = reader.Bool(EnvVars.DiagnosticsEndpoints) ?? options.DiagnosticsEndpoints;
        options.DashboardEnabled = reader.Bool(EnvVars.DashboardEnabled) ?? options.DashboardEnabled;
        options.HttpPort = reader.Int(EnvVars.HttpPort, 1, 65535, "a port") ?? options.HttpPort;
        options.AuthToken = reader.Get(EnvVars.AuthToken);
        options.ReloadBotsInterval = reader.Milliseconds(EnvVars.ReloadBotsIntervalMs, 1000) ?? options.ReloadBotsInterval;
        options.PrintBotsStatusInterval = reader.Milliseconds(EnvVars.PrintBotsStatusIntervalMs, 1000) ?? options.PrintBotsStatusInterval;
        options.HealthCheckTimeout = reader.Milliseconds(EnvVars.HealthCheckTimeoutMs, 1) ?? options.HealthCheckTimeout;
        options.HealthCheckInterval = reader.Milliseconds(EnvVars.HealthCheckIntervalMs, 1) ?? options.HealthCheckInterval;
        options.GracefulShutdownTimeout = reader.Milliseconds(EnvVars.GracefulShutdownTimeoutMs, 0) ?? options.GracefulShutdownTimeout;
        options.MaxFailedRestarts = reader.Int(EnvVars.MaxFailedRestarts, 1, 1000, "a count") ?? options.MaxFailedRestarts;
        options.RedisConnectionString = reader.Get(EnvVars.RedisConnectionString);
        options.ClusterId = reader.Get(EnvVars.ClusterId) ?? options.ClusterId;
        options.ServiceId = reader.Get(EnvVars.ServiceId) ?? options.ServiceId;
        options.SiloPort = reader.Int(EnvVars.SiloPort, 1, 65535, "a port") ?? options.SiloPort;
        options.GatewayPort = reader.Int(EnvVars.GatewayPort, 1, 65535, "a port") ?? options.GatewayPort;
        if (reader.Get(EnvVars.AdvertisedIp) is { } ip)
        {
            if (IPAddress.TryParse(ip.Trim(), out var address))
            {
                options.AdvertisedIp = address;
            }
            else
            {
                reader.Error(EnvVars.AdvertisedIp, $"must be an IP address such as 10.0.0.5 (got \"{ip}\")");
            }
        }

        options.SensayUrl = reader.Url(EnvVars.SensayUrl) ?? options.SensayUrl;
        options.SensaySecretKey = reader.Get(EnvVars.SensaySecretKey);
    }

    private readonly struct Reader(IConfiguration configuration, List<string> errors)
    {
        public string? Get(string name) => configuration[name] is { Length: > 0 } value && !string.IsNullOrWhiteSpace(value) ? value : null;

        public void Error(string name, string problem) => errors.Add($"{name} {problem}.");

        /// <summary>Quotes a bad value for the message, unless the variable is a secret.</summary>
        private static string Got(string name, string value) =>
            EnvVars.Secrets.Contains(name) ? "(value not shown: secret)" : $"(got \"{Shorten(value)}\")";

        private static string Shorten(string value) => value.Length <= 64 ? value : value[..64] + "...";

        public int? Int(string name, int min, int max, string what)
        {
            if (Get(name) is not { } raw)
            {
                return null;
            }

            if (!long.TryParse(raw.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                Error(name, $"must be a whole number ({what} from {min} to {max}) {Got(name, raw)}");
                return null;
            }

            if (value < min || value > max)
            {
                Error(name, $"must be {what} from {min} to {max} {Got(name, raw)}");
                return null;
            }

            return (int)value;
        }

        public bool? Bool(string name)
        {
            if (Get(name) is not { } raw)
            {
                return null;
            }

            switch (raw.Trim().ToLowerInvariant())
            {
                case "true" or "1" or "yes":
                    return true;
                case "false" or "0" or "no":
                    return false;
                default:
                    Error(name, $"must be true or false {Got(name, raw)}");
                    return null;
            }
        }

        public TimeSpan? Milliseconds(string name, long min, long max = int.MaxValue)
        {
            if (Get(name) is not { } raw)
            {
                return null;
            }

            if (!long.TryParse(raw.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value))
            {
                Error(name, $"must be a whole number of milliseconds from {min} to {max} {Got(name, raw)}");
                return null;
            }

            if (value < min || value > max)
            {
                Error(name, $"must be a number of milliseconds from {min} to {max} {Got(name, raw)}");
                return null;
            }

            return TimeSpan.FromMilliseconds(value);
        }

        public Uri? Url(string name)
        {
            if (Get(name) is not { } raw)
            {
                return null;
            }

            if (Uri.TryCreate(raw.Trim(), UriKind.Absolute, out var uri)
                && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
                && !string.IsNullOrEmpty(uri.Host)
                && string.IsNullOrEmpty(uri.UserInfo))
            {
                return uri;
            }

            Error(name, $"must be an absolute http:// or https:// URL without credentials {Got(name, raw)}");
            return null;
        }
    }
}

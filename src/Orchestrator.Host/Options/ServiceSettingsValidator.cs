using Microsoft.Extensions.Options;
using Orchestrator.Telegram;
using StackExchange.Redis;

namespace Orchestrator.Host.Options;

/// <summary>
/// Checks <see cref="ServiceSettings"/> at start (<c>ValidateOnStart</c>): collects every problem, one line each,
/// naming the environment variable to fix. Never includes the value of a secret.
/// </summary>
public sealed class ServiceSettingsValidator : IValidateOptions<ServiceSettings>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, ServiceSettings options)
    {
        var errors = new List<string>(options.BindingErrors);

        if (options.AuthToken is { } token && (token.Length > 1024 || token.Any(char.IsWhiteSpace) || token.Any(char.IsControl)))
        {
            errors.Add($"{EnvVars.AuthToken} must be at most 1024 characters without spaces or control characters (value not shown: secret).");
        }

        if (options.RedisConnectionString is { } redis)
        {
            try
            {
                _ = ConfigurationOptions.Parse(redis);
            }
            catch (Exception ex) when (ex is ArgumentException or FormatException or NotSupportedException)
            {
                errors.Add($"{EnvVars.RedisConnectionString} is not a valid StackExchange.Redis connection string such as host:6379 (value not shown: secret).");
            }
        }

        if (options.TelegramCaCertFile is { } caFile && TelegramCertificateTrust.TryLoad(caFile, out _) is { } problem)
        {
            errors.Add($"{EnvVars.TelegramCaCertFile} {problem}.");
        }
        else if (options.TelegramCaCertFile is not null && options.TelegramApiUrl.Scheme != Uri.UriSchemeHttps)
        {
            errors.Add($"{EnvVars.TelegramCaCertFile} is set but {EnvVars.TelegramApiUrl} is not https:// (the certificate would never be used).");
        }

        if (options.SiloPort == options.GatewayPort)
        {
            errors.Add($"{EnvVars.SiloPort} and {EnvVars.GatewayPort} must differ (both are {options.SiloPort}).");
        }

        if (options.HttpPort == options.SiloPort || options.HttpPort == options.GatewayPort)
        {
            errors.Add($"{EnvVars.HttpPort} must differ from {EnvVars.SiloPort} and {EnvVars.GatewayPort} (it is {options.HttpPort}).");
        }

        if (options.ClusterId.Length > 256 || options.ClusterId.Any(char.IsWhiteSpace))
        {
            errors.Add($"{EnvVars.ClusterId} must be at most 256 characters without spaces.");
        }

        if (options.ServiceId.Length > 256 || options.ServiceId.Any(char.IsWhiteSpace))
        {
            errors.Add($"{EnvVars.ServiceId} must be at most 256 characters without spaces.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

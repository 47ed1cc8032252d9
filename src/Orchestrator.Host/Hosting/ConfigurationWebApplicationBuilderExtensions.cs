using System.Security.Cryptography;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Options;
using Orchestrator.Grains.Bots;
using Orchestrator.Grains.Orchestration;
using Orchestrator.Host.Options;
using Orchestrator.Sensay;
using Orchestrator.Telegram;

namespace Orchestrator.Host.Hosting;

/// <summary>Registers the SPEC §3 settings, their start-time validation, the log level and the options derived from them.</summary>
public static class ConfigurationWebApplicationBuilderExtensions
{
    /// <summary>The file read in development, below the real environment variables.</summary>
    public const string DotEnvFile = ".env.local";

    /// <summary>
    /// Binds <see cref="ServiceSettings"/> from the environment variables (and appsettings*.json, plus
    /// <c>.env.local</c> in development), validates them at start, sets the minimum log level from <c>LOG_LEVEL</c>,
    /// and maps them onto the options of the grains (<see cref="BotOptions"/>, <see cref="OrchestratorOptions"/>), the
    /// Telegram clients (<see cref="TelegramClientOptions"/>) and the Sensay client (<see cref="SensayOptions"/>).
    /// </summary>
    public static WebApplicationBuilder AddOrchestratorConfiguration(this WebApplicationBuilder builder)
    {
        if (builder.Environment.IsDevelopment())
        {
            AddDotEnv(builder.Configuration, Path.Combine(builder.Environment.ContentRootPath, DotEnvFile));
        }

        // Read once now for the logging setup only; the validator reports any problem at start.
        var settings = ServiceSettingsBinder.Bind(builder.Configuration);
        var level = settings.LogLevel;
        var quiet = level < LogLevel.Warning ? LogLevel.Warning : level;
        builder.Logging.SetMinimumLevel(level);
        builder.Logging.AddFilter("Orleans", level <= LogLevel.Debug ? level : quiet);
        builder.Logging.AddFilter("Microsoft.AspNetCore", level <= LogLevel.Debug ? level : quiet);
        builder.Logging.AddFilter("Polly", level <= LogLevel.Debug ? level : quiet); // Orleans' placement retries log every call
        // HttpClient request logs carry the URL, and Telegram URLs carry the bot token: never log them.
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);

        var services = builder.Services;
        services.AddOptions<ServiceSettings>()
            .Configure<IConfiguration>((options, configuration) => ServiceSettingsBinder.Bind(configuration, options))
            .PostConfigure(GenerateAuthTokenIfUnset)
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<ServiceSettings>, ServiceSettingsValidator>();

        services.AddOptions<BotOptions>().Configure<IOptions<ServiceSettings>>((bot, settings) =>
        {
            var o = settings.Value;
            bot.HealthCheckTimeout = o.HealthCheckTimeout;
            bot.HealthCheckInterval = o.HealthCheckInterval;
            bot.GracefulShutdownTimeout = o.GracefulShutdownTimeout;
            bot.MaxFailedRestarts = o.MaxFailedRestarts;
            bot.StartRate = o.EffectiveBotStartRate;
            bot.FirstPollJitter = o.BotFirstPollJitter;
            bot.MaxConcurrentCompletions = o.SensayMaxConcurrency;
        });
        services.AddOptions<TelegramClientOptions>().Configure<IOptions<ServiceSettings>>((telegram, settings) =>
        {
            telegram.BaseUrl = settings.Value.TelegramApiUrl.ToString().TrimEnd('/');
            telegram.PollTimeoutSeconds = settings.Value.TelegramPollTimeoutSeconds;
            telegram.UseHttp2 = settings.Value.TelegramHttp2;
            telegram.LeanPolls = settings.Value.TelegramLeanPolls;
            telegram.TrustedCertificateFile = settings.Value.TelegramCaCertFile;
        });
        services.AddOptions<OrchestratorOptions>().Configure<IOptions<ServiceSettings>>((orchestrator, settings) =>
        {
            var o = settings.Value;
            orchestrator.ReloadInterval = o.ReloadBotsInterval;
            orchestrator.PrintStatusInterval = o.PrintBotsStatusInterval;
            orchestrator.TelegramServiceName = o.TelegramServiceName;
        });
        services.AddOptions<SensayOptions>().Configure<IOptions<ServiceSettings>>((sensay, settings) =>
        {
            var o = settings.Value;
            sensay.BaseUrl = o.SensayApiUrl;
            sensay.ApiKey = o.SensayApiKey;
            sensay.LicenseBaseUrl = o.SensayUrl;
            sensay.LicenseSecretKey = o.SensaySecretKey;
        });
        return builder;
    }

    private static void GenerateAuthTokenIfUnset(ServiceSettings options)
    {
        if (options.AuthToken is null)
        {
            options.AuthToken = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            options.AuthTokenGenerated = true;
        }
    }

    /// <summary>Inserts the dotenv file just below the unprefixed environment variables, so those still win.</summary>
    private static void AddDotEnv(IConfigurationManager configuration, string path)
    {
        var sources = configuration.Sources;
        var index = sources.Count;
        for (var i = 0; i < sources.Count; i++)
        {
            if (sources[i] is EnvironmentVariablesConfigurationSource { Prefix: null or "" })
            {
                index = i;
                break;
            }
        }

        sources.Insert(index, new DotEnvConfigurationSource(path));
    }
}

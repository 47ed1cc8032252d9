using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orchestrator.Host.Hosting;
using Orchestrator.Host.Options;

namespace Orchestrator.Host.Tests;

public sealed class ConfigurationValidationTests
{
    private static IReadOnlyList<string> Errors(params (string Key, string Value)[] values)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value)))
            .Build();
        var options = ServiceSettingsBinder.Bind(configuration);
        var result = new ServiceSettingsValidator().Validate(null, options);
        return result.Failed ? result.Failures!.ToList() : [];
    }

    [Fact]
    public void No_configuration_at_all_is_valid_and_gives_the_spec_defaults()
    {
        Assert.Empty(Errors());
        var options = ServiceSettingsBinder.Bind(new ConfigurationBuilder().Build());
        Assert.Equal(3000, options.HttpPort);
        Assert.Equal(11111, options.SiloPort);
        Assert.Equal(30000, options.GatewayPort);
        Assert.Equal(TimeSpan.FromMinutes(5), options.ReloadBotsInterval);
        Assert.Equal(TimeSpan.FromMinutes(1), options.PrintBotsStatusInterval);
        Assert.Equal(TimeSpan.FromSeconds(1), options.HealthCheckTimeout);
        Assert.Equal(TimeSpan.FromSeconds(5), options.HealthCheckInterval);
        Assert.Equal(TimeSpan.FromSeconds(1), options.GracefulShutdownTimeout);
        Assert.Equal(3, options.MaxFailedRestarts);
        Assert.Equal(50, options.TelegramPollTimeoutSeconds);
        Assert.Equal("sensay-telegram-integrations", options.TelegramServiceName);
        Assert.Equal(new Uri("https://api.telegram.org"), options.TelegramApiUrl);
        Assert.Equal("orchestrator", options.ClusterId);
        Assert.Equal("orchestrator", options.ServiceId);
        Assert.Equal(LogLevel.Information, options.LogLevel);
        Assert.False(options.IsCluster);
        Assert.True(options.TelegramHttp2);
        Assert.Equal(2000, options.EffectiveBotStartRate);
        Assert.Equal(1024, options.SensayMaxConcurrency);
        Assert.True(options.DashboardEnabled);
    }

    [Fact]
    public void The_sensay_concurrency_is_read()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["SENSAY_MAX_CONCURRENCY"] = "64",
        }).Build();
        Assert.Equal(64, ServiceSettingsBinder.Bind(configuration).SensayMaxConcurrency);
    }

    [Theory]
    [InlineData("true", null, 2000)]
    [InlineData("false", null, 400)]
    [InlineData("false", "0", 0)]
    [InlineData("true", "150", 150)]
    public void The_start_rate_defaults_by_transport_unless_set(string http2, string? rate, int expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["TELEGRAM_HTTP2"] = http2,
            ["BOT_START_RATE"] = rate,
        }).Build();
        Assert.Equal(expected, ServiceSettingsBinder.Bind(configuration).EffectiveBotStartRate);
    }

    [Theory]
    [InlineData("HTTP_PORT", "abc", "whole number")]
    [InlineData("HTTP_PORT", "-1", "from 1 to 65535")]
    [InlineData("HTTP_PORT", "70000", "from 1 to 65535")]
    [InlineData("SILO_PORT", "1.5", "whole number")]
    [InlineData("GATEWAY_PORT", "0", "from 1 to 65535")]
    [InlineData("RELOAD_BOTS_INTERVAL_MS", "soon", "milliseconds")]
    [InlineData("RELOAD_BOTS_INTERVAL_MS", "10", "milliseconds from 1000")]
    [InlineData("PRINT_BOTS_STATUS_INTERVAL_MS", "-5", "milliseconds")]
    [InlineData("HEALTH_CHECK_TIMEOUT_MS", "0", "milliseconds from 1")]
    [InlineData("HEALTH_CHECK_INTERVAL_MS", "1e3", "whole number")]
    [InlineData("GRACEFUL_SHUTDOWN_TIMEOUT_MS", "-1", "milliseconds from 0")]
    [InlineData("GRACEFUL_SHUTDOWN_TIMEOUT_MS", "99999999999", "milliseconds")]
    [InlineData("MAX_FAILED_RESTARTS", "many", "whole number")]
    [InlineData("MAX_FAILED_RESTARTS", "0", "from 1 to 1000")]
    [InlineData("TELEGRAM_POLL_TIMEOUT_S", "51", "from 1 to 50")]
    [InlineData("TELEGRAM_HTTP2", "maybe", "true or false")]
    [InlineData("DIAGNOSTICS_ENDPOINTS", "on", "true or false")]
    [InlineData("BOT_START_RATE", "-1", "from 0 to 100000")]
    [InlineData("BOT_START_RATE", "fast", "whole number")]
    [InlineData("SENSAY_MAX_CONCURRENCY", "0", "from 1 to 100000")]
    [InlineData("SENSAY_MAX_CONCURRENCY", "lots", "whole number")]
    [InlineData("BOT_FIRST_POLL_JITTER_MS", "300001", "milliseconds from 0 to 300000")]
    [InlineData("TELEGRAM_CA_CERT_FILE", "/nonexistent/emulator.crt", "does not exist")]
    [InlineData("TELEGRAM_API_URL", "api.telegram.org", "http:// or https:// URL")]
    [InlineData("TELEGRAM_API_URL", "ftp://example.com", "http:// or https:// URL")]
    [InlineData("SENSAY_API_URL", "not a url", "http:// or https:// URL")]
    [InlineData("SENSAY_URL", "//x", "http:// or https:// URL")]
    [InlineData("NODE_ENV", "staging", "development, production, test")]
    [InlineData("LOG_LEVEL", "verbose", "trace, debug, info, warn, error, fatal")]
    [InlineData("ADVERTISED_IP", "my-host", "IP address")]
    [InlineData("CLUSTER_ID", "a b", "without spaces")]
    public void A_bad_value_gives_one_line_naming_the_variable(string variable, string value, string expected)
    {
        var error = Assert.Single(Errors((variable, value)));
        Assert.StartsWith(variable + " ", error, StringComparison.Ordinal);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error);
    }

    [Fact]
    public void Every_error_is_collected_not_just_the_first()
    {
        var errors = Errors(("HTTP_PORT", "abc"), ("SILO_PORT", "-1"), ("LOG_LEVEL", "loud"), ("TELEGRAM_API_URL", "nope"));
        Assert.Equal(4, errors.Count);
        foreach (var variable in new[] { "HTTP_PORT", "SILO_PORT", "LOG_LEVEL", "TELEGRAM_API_URL" })
        {
            Assert.Single(errors, e => e.StartsWith(variable + " ", StringComparison.Ordinal));
        }
    }

    [Fact]
    public void Clashing_ports_are_reported()
    {
        Assert.Contains(Errors(("SILO_PORT", "4000"), ("GATEWAY_PORT", "4000")), e => e.StartsWith("SILO_PORT and GATEWAY_PORT", StringComparison.Ordinal));
        Assert.Contains(Errors(("HTTP_PORT", "11111")), e => e.StartsWith("HTTP_PORT must differ", StringComparison.Ordinal));
    }

    [Fact]
    public void A_secret_value_never_appears_in_an_error()
    {
        const string authToken = "super secret\ttoken";
        const string redis = "redis-host:6379,password=hunter2,unknownoption=zzz";
        var errors = Errors(("ORCHESTRATOR_AUTH_TOKEN", authToken), ("REDIS_CONNECTION_STRING", redis));
        Assert.Equal(2, errors.Count);
        Assert.Contains(errors, e => e.StartsWith("ORCHESTRATOR_AUTH_TOKEN ", StringComparison.Ordinal));
        Assert.Contains(errors, e => e.StartsWith("REDIS_CONNECTION_STRING ", StringComparison.Ordinal));
        Assert.All(errors, e =>
        {
            Assert.DoesNotContain("secret", e.Replace("value not shown: secret", "", StringComparison.Ordinal), StringComparison.Ordinal);
            Assert.DoesNotContain("hunter2", e, StringComparison.Ordinal);
        });
    }

    [Theory]
    [InlineData("development", "Development")]
    [InlineData("production", "Production")]
    [InlineData("test", "Test")]
    [InlineData("TEST", "Test")]
    [InlineData("staging", null)]
    [InlineData(null, null)]
    public void NODE_ENV_maps_to_the_dotnet_environment(string? nodeEnv, string? expected) =>
        Assert.Equal(expected, ServiceSettingsBinder.ToEnvironmentName(nodeEnv));

    [Theory]
    [InlineData("trace", LogLevel.Trace)]
    [InlineData("debug", LogLevel.Debug)]
    [InlineData("info", LogLevel.Information)]
    [InlineData("warn", LogLevel.Warning)]
    [InlineData("error", LogLevel.Error)]
    [InlineData("fatal", LogLevel.Critical)]
    public void LOG_LEVEL_maps_to_the_minimum_level(string value, LogLevel expected)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new("LOG_LEVEL", value)]).Build();
        Assert.Equal(expected, ServiceSettingsBinder.Bind(configuration).LogLevel);
    }

    [Fact]
    public void Good_values_are_read()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["HTTP_PORT"] = "8080",
            ["HEALTH_CHECK_INTERVAL_MS"] = "2500",
            ["REDIS_CONNECTION_STRING"] = "localhost:6379",
            ["ADVERTISED_IP"] = "10.1.2.3",
            ["SENSAY_API_URL"] = "https://api.sensay.io",
            ["HTTP_PORT_UNRELATED"] = "x",
            ["SILO_PORT"] = "",
        }).Build();
        var options = ServiceSettingsBinder.Bind(configuration);
        Assert.Empty(new ServiceSettingsValidator().Validate(null, options).Failures ?? []);
        Assert.Equal(8080, options.HttpPort);
        Assert.Equal(TimeSpan.FromMilliseconds(2500), options.HealthCheckInterval);
        Assert.True(options.IsCluster);
        Assert.Equal("10.1.2.3", options.AdvertisedIp?.ToString());
        Assert.Equal(11111, options.SiloPort); // empty counts as unset
    }

    [Fact]
    public void LOG_LEVEL_sets_the_level_of_our_logs_while_HttpClient_request_logs_stay_off()
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Configuration.AddInMemoryCollection([new("LOG_LEVEL", "debug")]);

        builder.AddOrchestratorConfiguration();

        using var provider = builder.Services.BuildServiceProvider();
        var loggers = provider.GetRequiredService<ILoggerFactory>();
        Assert.True(loggers.CreateLogger("Orchestrator.Grains.Bots.BotGrain").IsEnabled(LogLevel.Debug));
        Assert.False(loggers.CreateLogger("Orchestrator.Grains.Bots.BotGrain").IsEnabled(LogLevel.Trace));
        // Their URLs carry bot tokens.
        Assert.False(loggers.CreateLogger("System.Net.Http.HttpClient.telegram.LogicalHandler").IsEnabled(LogLevel.Information));
    }

    [Theory]
    [InlineData("Development", "from-file")]
    [InlineData("Production", null)]
    public void Dotenv_file_is_read_in_development_only_and_below_the_environment_variables(string environment, string? expected)
    {
        var root = Directory.CreateTempSubdirectory("orchestrator-dotenv-");
        try
        {
            File.WriteAllText(Path.Combine(root.FullName, ConfigurationWebApplicationBuilderExtensions.DotEnvFile), "ORCHESTRATOR_DOTENV_PROBE=from-file\n");
            var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment, ContentRootPath = root.FullName });

            builder.AddOrchestratorConfiguration();

            Assert.Equal(expected, builder.Configuration["ORCHESTRATOR_DOTENV_PROBE"]);
            var sources = builder.Configuration.Sources.ToList();
            var dotenv = sources.FindIndex(s => s is DotEnvConfigurationSource);
            var environmentVariables = sources.FindIndex(s => s is EnvironmentVariablesConfigurationSource { Prefix: null or "" });
            Assert.True(expected is null ? dotenv < 0 : dotenv >= 0 && dotenv < environmentVariables, $"dotenv source at {dotenv}, environment variables at {environmentVariables}");
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public void Dotenv_lines_are_parsed()
    {
        var values = DotEnvConfigurationSource.Parse("# comment\nHTTP_PORT=4000\nexport LOG_LEVEL=debug\nSENSAY_API_URL=\"http://localhost:5000\"\n\nbroken line\n");
        Assert.Equal("4000", values["HTTP_PORT"]);
        Assert.Equal("debug", values["LOG_LEVEL"]);
        Assert.Equal("http://localhost:5000", values["SENSAY_API_URL"]);
        Assert.Equal(3, values.Count);
    }
}

using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Orchestrator.Abstractions;
using Orchestrator.Host.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using StackExchange.Redis;

namespace Orchestrator.Host.Hosting;

/// <summary>Hosts the Orleans silo in this process; configuration alone picks embedded or Redis cluster mode.</summary>
public static class SiloHostApplicationBuilderExtensions
{
    /// <summary>
    /// Adds the silo. Without <c>REDIS_CONNECTION_STRING</c> (embedded default): localhost clustering on
    /// <c>SILO_PORT</c>/<c>GATEWAY_PORT</c>, in-memory grain storage and reminders. With it (cluster mode): Redis
    /// membership, grain storage and reminders sharing one connection, <c>CLUSTER_ID</c>/<c>SERVICE_ID</c>, endpoints
    /// advertised at <c>ADVERTISED_IP</c> and listening on every address. The Orleans Dashboard is added in both.
    /// </summary>
    public static IHostApplicationBuilder UseOrchestratorSilo(this IHostApplicationBuilder builder)
    {
        // The mode and ports are needed now; a bad value falls back to its default here and stops the process at
        // start through the options validator, so nothing runs on it.
        var settings = ServiceSettingsBinder.Bind(builder.Configuration);
        builder.UseOrleans(silo =>
        {
            if (settings.RedisConnectionString is { } redis)
            {
                UseRedisCluster(silo, settings, redis);
            }
            else
            {
                UseEmbedded(silo, settings);
            }

            silo.AddDashboard();
        });
        return builder;
    }

    private static void UseEmbedded(ISiloBuilder silo, ServiceSettings settings)
    {
        silo.UseLocalhostClustering(settings.SiloPort, settings.GatewayPort, serviceId: settings.ServiceId, clusterId: settings.ClusterId);
        silo.AddMemoryGrainStorage(StorageNames.Bots);
        silo.AddMemoryGrainStorage(StorageNames.Orchestrator);
        silo.UseInMemoryReminderService();
    }

    private static void UseRedisCluster(ISiloBuilder silo, ServiceSettings settings, string connectionString)
    {
        var connection = new SharedRedisConnection(connectionString);
        // Created by a factory so the container disposes it when the silo is gone.
        silo.Services.AddSingleton(_ => connection);

        silo.Configure<ClusterOptions>(cluster =>
        {
            cluster.ClusterId = settings.ClusterId;
            cluster.ServiceId = settings.ServiceId;
        });
        silo.ConfigureEndpoints(settings.AdvertisedIp ?? FirstNonLoopbackAddress(), settings.SiloPort, settings.GatewayPort, listenOnAnyHostAddress: true);
        silo.UseRedisClustering(redis =>
        {
            redis.ConfigurationOptions = connection.Options;
            redis.CreateMultiplexer = _ => connection.GetAsync();
        });
        silo.AddRedisGrainStorage(StorageNames.Bots, redis =>
        {
            redis.ConfigurationOptions = connection.Options;
            redis.CreateMultiplexer = _ => connection.GetAsync();
        });
        silo.AddRedisGrainStorage(StorageNames.Orchestrator, redis =>
        {
            redis.ConfigurationOptions = connection.Options;
            redis.CreateMultiplexer = _ => connection.GetAsync();
        });
        silo.UseRedisReminderService(redis =>
        {
            redis.ConfigurationOptions = connection.Options;
            redis.CreateMultiplexer = _ => connection.GetAsync();
        });
    }

    /// <summary>The first IPv4 address of an interface that is up and not loopback; loopback when there is none.</summary>
    private static IPAddress FirstNonLoopbackAddress() =>
        NetworkInterface.GetAllNetworkInterfaces()
            .Where(nic => nic.OperationalStatus == OperationalStatus.Up && nic.NetworkInterfaceType != NetworkInterfaceType.Loopback)
            .SelectMany(nic => nic.GetIPProperties().UnicastAddresses)
            .Select(unicast => unicast.Address)
            .FirstOrDefault(address => address.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(address))
        ?? IPAddress.Loopback;

    /// <summary>
    /// One Redis connection for clustering, storage and reminders, opened on first use. The providers are told it
    /// is shared, so none of them disposes it; the container does.
    /// </summary>
    private sealed class SharedRedisConnection(string connectionString) : IAsyncDisposable
    {
        private readonly Lazy<ConfigurationOptions> _options = new(() => ConfigurationOptions.Parse(connectionString));
        private Task<IConnectionMultiplexer>? _connecting;
        private readonly Lock _lock = new();

        public ConfigurationOptions Options => _options.Value;

        public async Task<(IConnectionMultiplexer Multiplexer, bool IsShared)> GetAsync()
        {
            Task<IConnectionMultiplexer> connecting;
            lock (_lock)
            {
                // A failed attempt is not cached: the next provider start tries again.
                if (_connecting is null || _connecting.IsFaulted || _connecting.IsCanceled)
                {
                    _connecting = ConnectAsync();
                }

                connecting = _connecting;
            }

            return (await connecting, true);
        }

        private async Task<IConnectionMultiplexer> ConnectAsync() => await ConnectionMultiplexer.ConnectAsync(Options.Clone());

        public async ValueTask DisposeAsync()
        {
            if (_connecting is { IsCompletedSuccessfully: true } connected)
            {
                await connected.Result.DisposeAsync();
            }
        }
    }
}

using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using Orchestrator.Abstractions;
using Orchestrator.Host.Options;
using Orleans.Configuration;
using Orleans.Dashboard;
using Orleans.Storage;
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
        var shutdown = ShutdownBudget.From(settings.GracefulShutdownTimeout);
        // SIGTERM: the host gives the silo this long to leave the cluster and deactivate every bot; sized so that
        // it never cuts a bot's graceful stop short (the default 30 s host timeout did not know about it).
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = shutdown.Host);
        builder.UseOrleans(silo =>
        {
            // Per-grain budget of OnDeactivateAsync: the bot's graceful stop (handlers, state write, final confirm).
            silo.Configure<GrainCollectionOptions>(collection => collection.DeactivationTimeout = shutdown.Deactivation);
            // Grain state in Orleans' own binary format (version tolerant through the contracts' [Id]s) instead of the
            // default Newtonsoft JSON: every handled update writes a bot's state, and the JSON writer was a tenth of the
            // silo's allocations under load.
            silo.Services.AddSingleton<IGrainStorageSerializer, OrleansGrainStorageSerializer>();
            if (settings.RedisConnectionString is { } redis)
            {
                UseRedisCluster(silo, settings, redis);
            }
            else
            {
                UseEmbedded(silo, settings);
            }

            if (settings.DashboardEnabled)
            {
                // No live log stream (/dashboard/Trace answers 403): the package writes each log line to the open
                // response from whichever thread logged it, without synchronisation. Under concurrent logging that
                // corrupted the response in a test run (another response's status line inside the stream's chunks):
                // unsynchronised writes to Kestrel's output, which could carry another request's bytes. The logs
                // themselves, /status and the rest of the dashboard are unaffected.
                silo.AddDashboard(options => options.HideTrace = true);
            }
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
        silo.Configure<ClusterMembershipOptions>(ConfigureMembership);
        // Spread bots evenly over the silos (the default, resource-optimised placement, keeps them on the calling
        // silo, which is the OrchestratorGrain's, so one silo would poll for the whole fleet).
        silo.Services.AddSingleton<PlacementStrategy, RandomPlacement>();
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

    /// <summary>
    /// Failure detection tuned for a small cluster: a silo that stops answering is probed every second and declared
    /// dead after three missed probes, by two votes (capped by Orleans to a majority, so one vote in a two-silo
    /// cluster). Measured on a busy 2-core host: a kill -9 is detected in about 3–5 s (defaults: 13–19 s), with no
    /// false eviction while three silos and the tests share the two cores (docs/architecture.md, "Cluster mode").
    /// </summary>
    internal static void ConfigureMembership(ClusterMembershipOptions membership)
    {
        membership.ProbeTimeout = TimeSpan.FromSeconds(1);
        membership.NumMissedProbesLimit = 3;
        membership.NumVotesForDeathDeclaration = 2;
        // Read the table often, so every survivor learns of a death (and reactivates bots) within seconds.
        membership.TableRefreshTimeout = TimeSpan.FromSeconds(2);
        membership.IAmAliveTablePublishTimeout = TimeSpan.FromSeconds(5);
        membership.DeathVoteExpirationTimeout = TimeSpan.FromSeconds(30);
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
    /// Shutdown budgets derived from <c>GRACEFUL_SHUTDOWN_TIMEOUT_MS</c> (G). A stopping bot needs at most G for its
    /// in-flight replies, then G + 1 s for the final getUpdates confirmation, plus state writes: deactivation gets
    /// 2 G + 5 s. The host adds 15 s for the silo's other stop stages (leaving the cluster, closing gateways,
    /// stopping providers; about 3 s measured). Defaults (G = 1 s): 7 s per grain, 22 s for the host.
    /// </summary>
    internal readonly record struct ShutdownBudget(TimeSpan Deactivation, TimeSpan Host)
    {
        public static ShutdownBudget From(TimeSpan graceful)
        {
            var deactivation = graceful + graceful + TimeSpan.FromSeconds(5);
            return new ShutdownBudget(deactivation, deactivation + TimeSpan.FromSeconds(15));
        }
    }

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

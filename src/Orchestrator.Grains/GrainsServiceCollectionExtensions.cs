using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orchestrator.Grains.Bots;
using Orchestrator.Grains.Conversations;
using Orchestrator.Grains.Orchestration;
using Orchestrator.Grains.Telemetry;
using Orchestrator.Telegram;

namespace Orchestrator.Grains;

/// <summary>Registers what the grains need besides Orleans itself.</summary>
public static class GrainsServiceCollectionExtensions
{
    /// <summary>
    /// Adds the bot runtime: Telegram clients, the Sensay client, conversations, the upstream source of the desired
    /// set, the clock, this silo's <see cref="LocalBots"/> and the <see cref="SiloBotReporter"/> that reports them to the
    /// orchestrator (and wakes it), and the <see cref="BotHandover"/> that stops them before the silo leaves. Options (<see cref="BotOptions"/>, <see cref="OrchestratorOptions"/>,
    /// <see cref="TelegramClientOptions"/>, <c>SensayOptions</c>) are configured by the caller.
    /// </summary>
    public static IServiceCollection AddBotRuntime(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<BotOptions>();
        services.AddOptions<OrchestratorOptions>();
        services.AddTelegramClients();
        services.AddSensayClient();
        services.AddMetrics();
        services.TryAddSingleton<LocalBots>();
        services.TryAddSingleton<OrchestratorMetrics>();
        services.TryAddSingleton<UpstreamLimiter>();
        services.TryAddSingleton<BotStartPacer>();
        services.TryAddSingleton<IConversationFactory, SensayConversationFactory>();
        services.TryAddSingleton<IBotDefinitionSource, SensayBotDefinitionSource>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILifecycleParticipant<ISiloLifecycle>, SiloBotReporter>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<ILifecycleParticipant<ISiloLifecycle>, BotHandover>());
        return services;
    }
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orchestrator.Grains.Bots;
using Orchestrator.Grains.Conversations;
using Orchestrator.Grains.Orchestration;
using Orchestrator.Telegram;

namespace Orchestrator.Grains;

/// <summary>Registers what the grains need besides Orleans itself.</summary>
public static class GrainsServiceCollectionExtensions
{
    /// <summary>Adds the bot runtime: Telegram clients, conversations and the clock.</summary>
    public static IServiceCollection AddBotRuntime(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddOptions<BotOptions>();
        services.AddOptions<OrchestratorOptions>();
        services.TryAddSingleton<IBotDefinitionSource, NoUpstreamSource>();
        services.AddOptions<TelegramClientOptions>();
        services.TryAddSingleton<TelegramClientFactory>();
        services.TryAddSingleton<IConversationFactory, ConversationFactory>();
        return services;
    }
}

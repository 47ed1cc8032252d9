using Orchestrator.Abstractions;
using Orchestrator.Grains.Bots;
using Telegram.Bot;
using Telegram.Bot.Types;

namespace Orchestrator.Grains.Conversations;

/// <summary>Creates each running bot's conversation (placeholder: the Sensay-backed conversation lands next).</summary>
public sealed class ConversationFactory : IConversationFactory
{
    public IConversation Create(BotDefinition definition, ITelegramBotClient client, User me) => new SkipAll();

    private sealed class SkipAll : IConversation
    {
        public Task HandleAsync(Update update, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}

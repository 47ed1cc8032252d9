using Orchestrator.Abstractions;
using Telegram.Bot;
using Telegram.Bot.Types;

namespace Orchestrator.Grains.Bots;

/// <summary>
/// What a running bot does with the updates it receives. One is created each time a bot's loop starts (after
/// <c>getMe</c>), so it may keep per-bot state such as flood counters.
/// </summary>
public interface IConversation
{
    /// <summary>
    /// Handles one update: answers it or deliberately skips it. Returning means handled; throwing means the attempt
    /// failed and the update stays unconfirmed, so it is delivered again. Updates of one chat never overlap.
    /// </summary>
    Task HandleAsync(Update update, CancellationToken cancellationToken);
}

/// <summary>Creates the <see cref="IConversation"/> of a bot whose loop starts.</summary>
public interface IConversationFactory
{
    IConversation Create(BotDefinition definition, ITelegramBotClient client, User me);
}

using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Abstractions;
using Orchestrator.Grains.Bots;
using Orchestrator.Sensay;
using Orchestrator.Telegram;
using Telegram.Bot;
using Telegram.Bot.Types;

namespace Orchestrator.Grains.Conversations;

/// <summary>Creates each running bot's <see cref="SensayConversation"/>.</summary>
public sealed class SensayConversationFactory(
    IServiceProvider services,
    UpstreamLimiter upstream,
    IOptions<TelegramClientOptions> telegramOptions,
    TimeProvider time,
    ILoggerFactory loggers) : IConversationFactory
{
    /// <inheritdoc />
    public IConversation Create(BotDefinition definition, ITelegramBotClient client, User me) =>
        new SensayConversation(
            definition,
            client,
            new BotIdentity(me.Id, me.Username ?? string.Empty),
            // A typed client per bot start, so handler rotation of IHttpClientFactory still applies.
            services.GetRequiredService<ISensayClient>(),
            upstream,
            new FloodLimiter(time),
            new ReplySender(client, time, loggers.CreateLogger<ReplySender>()),
            telegramOptions.Value.BaseUrl,
            time,
            loggers.CreateLogger<SensayConversation>());
}

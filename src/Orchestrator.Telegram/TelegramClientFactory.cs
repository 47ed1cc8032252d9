using Microsoft.Extensions.Options;
using Telegram.Bot;

namespace Orchestrator.Telegram;

/// <summary>Creates Telegram clients sharing one HttpClient (placeholder until the adapter lands).</summary>
public sealed class TelegramClientFactory(IOptions<TelegramClientOptions> options)
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { PooledConnectionLifetime = TimeSpan.FromMinutes(3) })
    {
        Timeout = TimeSpan.FromSeconds(options.Value.PollTimeoutSeconds + 20),
    };

    public ITelegramBotClient Create(string token) =>
        new TelegramBotClient(new TelegramBotClientOptions(token, options.Value.BaseUrl) { RetryThreshold = 0 }, _http);
}

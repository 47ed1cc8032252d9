namespace Orchestrator.Telegram;

/// <summary>Telegram client settings (placeholder until the adapter lands).</summary>
public sealed class TelegramClientOptions
{
    public string BaseUrl { get; set; } = "https://api.telegram.org";

    public int PollTimeoutSeconds { get; set; } = 50;
}

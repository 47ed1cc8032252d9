using Orchestrator.Abstractions;

namespace Orchestrator.Grains.Bots;

/// <summary>
/// A bot's persisted state. Ids are never renumbered: this outlives renames in Redis.
/// </summary>
[GenerateSerializer, Alias("orchestrator.bot-state")]
public sealed class BotState
{
    /// <summary>The bot's definition; null when the bot is not (or no longer) defined.</summary>
    [Id(0)] public BotDefinition? Definition { get; set; }

    /// <summary>
    /// The next update id to confirm to Telegram: every update below it was handled (answered or deliberately skipped).
    /// </summary>
    [Id(1)] public int Offset { get; set; }

    /// <summary>Handled update ids at or above <see cref="Offset"/> (handled while an older update was still in flight).</summary>
    [Id(2)] public List<int> HandledAboveOffset { get; set; } = [];

    /// <summary>Consecutive failed starts or loop crashes; reset after a stable run or a revival.</summary>
    [Id(3)] public int ConsecutiveFailures { get; set; }

    /// <summary>Restarts since the bot was defined.</summary>
    [Id(4)] public int Restarts { get; set; }

    [Id(5)] public string? LastError { get; set; }

    [Id(6)] public DateTimeOffset? LastErrorAt { get; set; }

    /// <summary>Why the bot gave up; non-null exactly when the bot is failed.</summary>
    [Id(7)] public string? FailedReason { get; set; }

    [Id(8)] public DateTimeOffset? FailedSince { get; set; }

    [Id(9)] public long UpdatesHandled { get; set; }

    /// <summary>Telegram 409 answers seen: another poller on the same token.</summary>
    [Id(10)] public long Conflicts { get; set; }

    /// <summary>The bot's username from the last successful getMe.</summary>
    [Id(11)] public string? BotUsername { get; set; }

    /// <summary>
    /// The Telegram bot whose update ids <see cref="Offset"/> and <see cref="HandledAboveOffset"/> count. Kept when
    /// the bot is removed, so re-creating it with the same token never answers an already handled update again.
    /// </summary>
    [Id(12)] public long? ProgressBotId { get; set; }
}

namespace Orchestrator.Abstractions;

/// <summary>A bot's lifecycle status, as <c>/status</c> shows it (lower case on the wire).</summary>
[GenerateSerializer]
public enum BotStatus
{
    /// <summary>The long-poll loop is alive and making progress.</summary>
    Running = 0,

    /// <summary>The loop is alive but has not completed a poll recently (Telegram or network trouble).</summary>
    Unhealthy = 1,

    /// <summary>Not polling: removed, or the silo is shutting down.</summary>
    Stopped = 2,

    /// <summary>Starting, or waiting for the next restart attempt after a failure.</summary>
    Restarting = 3,

    /// <summary>Gave up after too many failures or a rejected token; a reload or a PUT revives it.</summary>
    Failed = 4,
}

/// <summary>What an operator needs to know about one bot. Never contains the token.</summary>
[GenerateSerializer, Immutable, Alias("orchestrator.bot-status-report")]
public sealed record BotStatusReport
{
    [Id(0)] public required string ReplicaUuid { get; init; }
    [Id(1)] public required string ReplicaSlug { get; init; }
    [Id(2)] public string? OwnerUuid { get; init; }
    [Id(3)] public required BotStatus Status { get; init; }
    /// <summary>When the bot entered <see cref="Status"/>.</summary>
    [Id(4)] public DateTimeOffset? StatusSince { get; init; }
    /// <summary>The silo hosting the bot's activation.</summary>
    [Id(5)] public string? Silo { get; init; }
    /// <summary>The bot's Telegram username, once <c>getMe</c> succeeded.</summary>
    [Id(6)] public string? BotUsername { get; init; }
    /// <summary>Restarts since the bot was defined.</summary>
    [Id(7)] public int Restarts { get; init; }
    /// <summary>Consecutive failed starts; reset by a stable run or a revival.</summary>
    [Id(8)] public int ConsecutiveFailures { get; init; }
    [Id(9)] public string? LastError { get; init; }
    [Id(10)] public DateTimeOffset? LastErrorAt { get; init; }
    /// <summary>End of the last successful <c>getUpdates</c> round trip.</summary>
    [Id(11)] public DateTimeOffset? LastPollAt { get; init; }
    [Id(12)] public long UpdatesHandled { get; init; }
    /// <summary>Telegram 409 answers seen (another poller on the same token).</summary>
    [Id(13)] public long Conflicts { get; init; }
    /// <summary>When the next restart attempt is due, while <see cref="BotStatus.Restarting"/>.</summary>
    [Id(14)] public DateTimeOffset? NextRestartAt { get; init; }
}

namespace Orchestrator.Grains.Bots;

/// <summary>How bots are supervised. Bound by the host from the SPEC §3 environment variables.</summary>
public sealed class BotOptions
{
    /// <summary>How long one health check may take, and the grace added to the poll timeout before a bot is unhealthy (<c>HEALTH_CHECK_TIMEOUT_MS</c>, default 1 s).</summary>
    public TimeSpan HealthCheckTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Period of health checks, and the first restart delay (<c>HEALTH_CHECK_INTERVAL_MS</c>, default 5 s).</summary>
    public TimeSpan HealthCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long in-flight replies may take to finish when a bot stops (<c>GRACEFUL_SHUTDOWN_TIMEOUT_MS</c>, default 1 s).</summary>
    public TimeSpan GracefulShutdownTimeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Consecutive failed restarts after which a bot is failed (<c>MAX_FAILED_RESTARTS</c>, default 3).</summary>
    public int MaxFailedRestarts { get; set; } = 3;

    /// <summary>Upper bound of the restart backoff (default 5 min).</summary>
    public TimeSpan RestartBackoffCap { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>A bot running this long without failing gets its failure counter reset (default 10 min).</summary>
    public TimeSpan StablePeriod { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// While an update is still being handled its offset cannot be confirmed, so Telegram answers every poll at once;
    /// the loop then waits this long (or until a handler finishes) before polling again (default 1 s), doubling up to
    /// 4 times this while those polls bring nothing new, and 4 times this at once while every upstream slot of the
    /// silo is taken (<see cref="Backoff.BusyPollDelay"/>).
    /// </summary>
    public TimeSpan BusyPollDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Upper bound of the random delay before a bot's first poll, so bots started together do not poll in lockstep
    /// (<c>BOT_FIRST_POLL_JITTER_MS</c>, default 0).
    /// </summary>
    public TimeSpan FirstPollJitter { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// Bot loops started per second on one silo, over every path that starts them; 0 = as fast as they come
    /// (<c>BOT_START_RATE</c>, default 0). See <see cref="BotStartPacer"/>.
    /// </summary>
    public int StartRate { get; set; }

    /// <summary>First delay after a transient Telegram error (5xx, network, timeout); doubles up to 30× this (default 1 s).</summary>
    public TimeSpan TransientRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Shortest wait after a 409 (another poller on the token); the wait is 1–2.5× this, with jitter, so a stale
    /// duplicate activation has time to stop (default 2 s).
    /// </summary>
    public TimeSpan ConflictDelay { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// Slack on top of the long-poll timeout plus <see cref="HealthCheckTimeout"/> before a poll that has not answered
    /// counts as hung and is replaced (default 5 s: network latency on a healthy poll must not trip it).
    /// </summary>
    public TimeSpan PollGrace { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Attempts at handling one update before it is skipped as undeliverable (default 3).</summary>
    public int MaxHandlingAttempts { get; set; } = 3;

    /// <summary>The default of <see cref="MaxConcurrentCompletions"/>.</summary>
    public const int DefaultMaxConcurrentCompletions = 1024;

    /// <summary>
    /// Sensay completions in flight at once on one silo, across all its bots (<c>SENSAY_MAX_CONCURRENCY</c>, default
    /// 1,024). See <see cref="Conversations.UpstreamLimiter"/>.
    /// </summary>
    public int MaxConcurrentCompletions { get; set; } = DefaultMaxConcurrentCompletions;
}

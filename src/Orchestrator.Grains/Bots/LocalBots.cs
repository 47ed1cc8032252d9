using System.Collections.Concurrent;
using Orchestrator.Abstractions;

namespace Orchestrator.Grains.Bots;

/// <summary>
/// The bot activations of this silo, as each one publishes itself: the silo's supervisor reports the healthy ones to
/// the orchestrator, whose health sweep then calls only the others, and the metrics count them by status.
/// </summary>
public sealed class LocalBots
{
    private readonly ConcurrentDictionary<string, LocalBot> _bots = new(StringComparer.Ordinal);

    /// <summary>Publishes a new activation of the bot (replacing what an earlier activation left).</summary>
    public LocalBot Track(string replicaUuid) => _bots[replicaUuid] = new LocalBot(replicaUuid);

    /// <summary>Forgets the activation's entry, unless a newer activation already replaced it.</summary>
    public void Forget(LocalBot bot) => _bots.TryRemove(KeyValuePair.Create(bot.ReplicaUuid, bot));

    private volatile bool _siloStopping;
    private volatile bool _handingOver;

    /// <summary>
    /// The entries, enumerated without taking the dictionary's locks or copying it, as <c>Values</c> would: the silo's
    /// supervisor walks them every health-check interval. An entry added or removed meanwhile may or may not be seen.
    /// </summary>
    public IEnumerable<LocalBot> All
    {
        get
        {
            foreach (var (_, bot) in _bots)
            {
                yield return bot;
            }
        }
    }

    /// <summary>How many entries there are.</summary>
    public int Count => _bots.Count;

    /// <summary>This silo hands its bots over (<see cref="Orchestration.BotHandover"/>): no bot loop starts here any more.</summary>
    public bool SiloStopping => _siloStopping;

    /// <summary>
    /// The silo stops while other silos are active: its bots continue there, from the offsets they persisted to the
    /// cluster's shared storage, so each successor's first poll confirms what was handled here.
    /// </summary>
    public bool HandingOver => _handingOver;

    /// <summary>Marks the silo as shutting down; see <see cref="SiloStopping"/> and <see cref="HandingOver"/>.</summary>
    public void BeginSiloStop(bool successorsActive)
    {
        _handingOver = successorsActive;
        _siloStopping = true;
    }

    /// <summary>
    /// Cancels every long poll past its deadline; returns how many. One walk over the silo's bots replaces a timer
    /// per poll: with thousands of bots, that many timers kept the runtime's timer queue busy while everything idled.
    /// </summary>
    public int CancelHungPolls(DateTimeOffset now)
    {
        var cancelled = 0;
        foreach (var bot in All)
        {
            if (bot.CancelPollIfHung(now))
            {
                cancelled++;
            }
        }

        return cancelled;
    }
}

/// <summary>
/// What one activation publishes about itself. Written only by its activation (on the grain's scheduler) and read from
/// other threads, so every field is read and written whole and without tearing.
/// </summary>
public sealed class LocalBot(string replicaUuid)
{
    private int _status = (int)BotStatus.Stopped;
    private long _fingerprint;
    private long _aliveUntilTicks = long.MaxValue;
    private long _healthyUntilTicks = long.MaxValue;
    private Task? _loop;
    private CancellationTokenSource? _poll;

    public string ReplicaUuid { get; } = replicaUuid;

    public BotStatus Status
    {
        get => (BotStatus)Volatile.Read(ref _status);
        set => Volatile.Write(ref _status, (int)value);
    }

    /// <summary>The <see cref="BotDefinitionFingerprint"/> of the definition the bot runs; 0 without one.</summary>
    public long Fingerprint
    {
        get => Volatile.Read(ref _fingerprint);
        private set => Volatile.Write(ref _fingerprint, value);
    }

    /// <summary>Records the definition the bot now has (null: none).</summary>
    public void SetDefinition(BotDefinition? definition) => Fingerprint = definition is null ? 0 : BotDefinitionFingerprint.Of(definition);

    /// <summary>A run of the loop started (no deadline yet: it sets one before its first wait).</summary>
    public void RunStarted(Task loop)
    {
        Volatile.Write(ref _aliveUntilTicks, long.MaxValue);
        Volatile.Write(ref _healthyUntilTicks, long.MaxValue);
        Volatile.Write(ref _loop, loop);
    }

    /// <summary>The run stopped (for good, or to be replaced).</summary>
    public void RunStopped() => Volatile.Write(ref _loop, null);

    /// <summary>The loop promises its next sign of life (the end of a poll or of a wait) by <paramref name="deadline"/>.</summary>
    public void ExpectActivityBy(DateTimeOffset deadline) => Volatile.Write(ref _aliveUntilTicks, deadline.UtcTicks);

    /// <summary>The loop made progress (started, or a poll answered): it is healthy until <paramref name="healthyUntil"/>.</summary>
    public void Progressed(DateTimeOffset healthyUntil) => Volatile.Write(ref _healthyUntilTicks, healthyUntil.UtcTicks);

    /// <summary>
    /// True when the bot needs the supervisor: it is not failed (only a reload or a PUT revives a failed bot), and its
    /// loop is gone, ended, or has shown no sign of life for <paramref name="grace"/> past the deadline it set itself.
    /// </summary>
    public bool NeedsCheck(DateTimeOffset now, TimeSpan grace) =>
        Status != BotStatus.Failed && IsOverdue(now, grace);

    /// <summary>
    /// The status, as <see cref="BotStatus.Unhealthy"/> while a running bot's loop is gone or has made no progress in
    /// time (<see cref="Progressed"/>): a hung poll, or polls failing one after another. Every view of a bot's health
    /// (<c>/status</c>, <c>/health</c>, the silo's report, the metrics) reads this one rule.
    /// </summary>
    public BotStatus ObservedStatus(DateTimeOffset now) =>
        Status is BotStatus.Running && (!LoopAlive || now.UtcTicks > Volatile.Read(ref _healthyUntilTicks)) ? BotStatus.Unhealthy : Status;

    /// <summary>Until when the loop counts as healthy without more progress; null before its first.</summary>
    public DateTimeOffset? HealthyUntil => Volatile.Read(ref _healthyUntilTicks) is var ticks && ticks != long.MaxValue
        ? new DateTimeOffset(ticks, TimeSpan.Zero)
        : null;

    /// <summary>
    /// A long poll starts that must end by <paramref name="deadline"/>; past it, <see cref="CancelPollIfHung"/> cancels
    /// <paramref name="poll"/>.
    /// </summary>
    public void PollStarted(CancellationTokenSource poll, DateTimeOffset deadline)
    {
        // The deadline first: a reader that sees this poll also sees its deadline (or a later one).
        ExpectActivityBy(deadline);
        Volatile.Write(ref _poll, poll);
    }

    /// <summary>The long poll ended (answered or failed).</summary>
    public void PollEnded() => Volatile.Write(ref _poll, null);

    /// <summary>Cancels the long poll in progress if it is past its deadline; true if it did.</summary>
    public bool CancelPollIfHung(DateTimeOffset now)
    {
        if (Volatile.Read(ref _poll) is not { } poll || now.UtcTicks <= Volatile.Read(ref _aliveUntilTicks))
        {
            return false;
        }

        try
        {
            // The poll may have ended meanwhile: then the loop finds the source cancelled and takes a new one.
            poll.Cancel();
            return true;
        }
        catch (ObjectDisposedException)
        {
            // Its run ended and disposed it.
            return false;
        }
    }

    private bool LoopAlive => Volatile.Read(ref _loop) is { IsCompleted: false };

    private bool IsOverdue(DateTimeOffset now, TimeSpan grace) =>
        !LoopAlive || now.UtcTicks - grace.Ticks > Volatile.Read(ref _aliveUntilTicks);
}

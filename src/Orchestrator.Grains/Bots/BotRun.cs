using Orchestrator.Abstractions;
using Orchestrator.Telegram;
using Telegram.Bot;

namespace Orchestrator.Grains.Bots;

/// <summary>
/// The in-memory side of one run of a bot's loop with one definition: from start until stop. All members are
/// touched only on the grain's scheduler, so no locks are needed.
/// </summary>
internal sealed class BotRun(BotDefinition definition, int offset) : IDisposable
{
    public BotDefinition Definition { get; } = definition;

    /// <summary>Cancels polling, startup and backoff waits at once.</summary>
    public CancellationTokenSource Stopping { get; } = new();

    /// <summary>Cancels in-flight handling; fired a grace period after <see cref="Stopping"/>.</summary>
    public CancellationTokenSource Handling { get; } = new();

    public Task Loop { get; set; } = Task.CompletedTask;

    private CancellationTokenSource? _poll;

    public ITelegramBotClient? Client { get; set; }

    public TelegramPoller? Poller { get; set; }

    public IConversation? Conversation { get; set; }

    /// <summary>One past the highest update id received.</summary>
    public int NextUpdateId { get; set; } = offset;

    /// <summary>The offset Telegram last saw in a successful getUpdates.</summary>
    public int ConfirmedToTelegram { get; set; } = offset;

    /// <summary>Update ids being handled, lowest first.</summary>
    public SortedSet<int> InFlight { get; } = [];

    /// <summary>
    /// Update ids whose handling failed or was cut short by a stop: they stay unconfirmed, so Telegram delivers them
    /// again (to this run's next poll, or to the next run), and the offset never moves past them.
    /// </summary>
    public SortedSet<int> Unhandled { get; } = [];

    /// <summary>Handler tasks by update id.</summary>
    public Dictionary<int, Task> Handlers { get; } = [];

    /// <summary>The last handler queued for each chat, so a chat's updates are handled in order.</summary>
    public Dictionary<long, (int UpdateId, Task Task)> ChatTails { get; } = [];

    /// <summary>Failed handling attempts by update id.</summary>
    public Dictionary<int, int> Attempts { get; } = [];

    /// <summary>Completed when a handler finishes; replaced after each wait.</summary>
    public TaskCompletionSource Progress { get; set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public DateTimeOffset? RunningSince { get; set; }

    public DateTimeOffset? LastPollAt { get; set; }

    /// <summary>The offset to send to Telegram: the lowest update not yet handled (in flight, or failed and awaiting redelivery).</summary>
    public int ConfirmableOffset => Math.Min(
        InFlight.Count > 0 ? InFlight.Min : int.MaxValue,
        Math.Min(Unhandled.Count > 0 ? Unhandled.Min : int.MaxValue, NextUpdateId));

    /// <summary>
    /// The cancellation of the next long poll: cancelled by <see cref="Stopping"/>, or by the silo's watchdog when the
    /// poll outlives its deadline (<see cref="LocalBot.CancelPollIfHung"/>). One source serves every poll of the run
    /// until it is cancelled; a poll then gets a fresh one.
    /// </summary>
    public CancellationTokenSource NextPollCancellation()
    {
        if (_poll is not { IsCancellationRequested: false })
        {
            _poll?.Dispose();
            _poll = CancellationTokenSource.CreateLinkedTokenSource(Stopping.Token);
        }

        return _poll;
    }

    public void Dispose()
    {
        _poll?.Dispose();
        Stopping.Dispose();
        Handling.Dispose();
    }
}

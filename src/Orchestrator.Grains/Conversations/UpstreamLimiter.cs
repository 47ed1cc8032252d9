using Microsoft.Extensions.Options;
using Orchestrator.Grains.Bots;

namespace Orchestrator.Grains.Conversations;

/// <summary>
/// The silo-wide cap on concurrent upstream (Sensay) calls (<see cref="BotOptions.MaxConcurrentCompletions"/>), so a
/// slow upstream is not buried under requests. It bounds replies per second at the cap over the completion time: the
/// earlier fixed 256 held a 10,000-bot burst with a 200 ms upstream to ~1,000 replies/s (1,435/s at 2,048).
/// </summary>
public sealed class UpstreamLimiter(IOptions<BotOptions> options) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(options.Value.MaxConcurrentCompletions, options.Value.MaxConcurrentCompletions);

    /// <summary>
    /// Every slot is taken: the silo is answering as fast as its upstream phase allows, and replies that arrive now
    /// wait for a slot.
    /// </summary>
    public bool Full => _slots.CurrentCount == 0;

    /// <summary>Waits for a slot; dispose the result to give it back.</summary>
    public async ValueTask<Slot> AcquireAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        return new Slot(_slots);
    }

    /// <inheritdoc />
    public void Dispose() => _slots.Dispose();

    /// <summary>A held slot.</summary>
    public readonly struct Slot(SemaphoreSlim slots) : IDisposable
    {
        /// <inheritdoc />
        public void Dispose() => slots.Release();
    }
}

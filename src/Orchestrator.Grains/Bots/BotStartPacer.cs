using Microsoft.Extensions.Options;

namespace Orchestrator.Grains.Bots;

/// <summary>
/// Spaces out the starts of bot loops on this silo to <see cref="BotOptions.StartRate"/> per second, whatever starts
/// them (start-up, a reload, the activations that follow a failover, the REST API): thousands of TLS handshakes at
/// once time out and churn memory. Each start takes the next free slot; 0 (the default) means no pacing.
/// </summary>
public sealed class BotStartPacer(IOptions<BotOptions> options, TimeProvider time)
{
    private readonly long _interval = options.Value.StartRate > 0 ? TimeSpan.TicksPerSecond / options.Value.StartRate : 0;
    private readonly Lock _sync = new();
    private long _nextSlot;

    /// <summary>How long the caller waits for its slot (zero when pacing is off or the rate has room).</summary>
    public TimeSpan NextDelay()
    {
        if (_interval == 0)
        {
            return TimeSpan.Zero;
        }

        var now = time.GetUtcNow().UtcTicks;
        lock (_sync)
        {
            var slot = Math.Max(now, _nextSlot);
            _nextSlot = slot + _interval;
            return TimeSpan.FromTicks(slot - now);
        }
    }
}

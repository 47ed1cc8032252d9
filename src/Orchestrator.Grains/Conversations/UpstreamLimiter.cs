namespace Orchestrator.Grains.Conversations;

/// <summary>
/// The silo-wide cap on concurrent upstream (Sensay) calls, so one busy replica cannot starve the others and a slow
/// upstream is not buried under requests.
/// </summary>
public sealed class UpstreamLimiter(int maxConcurrency = UpstreamLimiter.DefaultMaxConcurrency) : IDisposable
{
    /// <summary>The default cap.</summary>
    public const int DefaultMaxConcurrency = 256;

    private readonly SemaphoreSlim _slots = new(maxConcurrency, maxConcurrency);

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

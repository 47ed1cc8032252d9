namespace Orchestrator.Fakes;

/// <summary>
/// TaskCompletionSource-based waiting on the state of a fake: a waiter registers a probe that is evaluated
/// right away and again every time the owner changes its state (<see cref="Notify"/>), never on a timer.
/// </summary>
internal sealed class ConditionWaiters(Lock sync)
{
    private readonly List<Waiter> _waiters = [];
    private bool _disposed;

    /// <summary>Completes with the first non-null probe result; throws <see cref="TimeoutException"/> with <paramref name="describeTimeout"/>.</summary>
    public async Task<T> WaitAsync<T>(Func<T?> probe, TimeSpan timeout, Func<string> describeTimeout, CancellationToken cancellationToken)
        where T : class
    {
        Waiter waiter;
        lock (sync)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (probe() is { } ready)
            {
                return ready;
            }

            waiter = new Waiter(() => probe());
            _waiters.Add(waiter);
        }

        try
        {
            return (T)await waiter.Completion.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            string message;
            lock (sync)
            {
                message = describeTimeout();
            }

            throw new TimeoutException(message);
        }
        finally
        {
            lock (sync)
            {
                _waiters.Remove(waiter);
            }
        }
    }

    /// <summary>Re-evaluates every waiter. The caller holds the owner's lock.</summary>
    public void Notify()
    {
        for (var i = _waiters.Count - 1; i >= 0; i--)
        {
            var waiter = _waiters[i];
            try
            {
                if (waiter.Probe() is { } result)
                {
                    waiter.Completion.TrySetResult(result);
                    _waiters.RemoveAt(i);
                }
            }
            catch (Exception ex)
            {
                waiter.Completion.TrySetException(ex);
                _waiters.RemoveAt(i);
            }
        }
    }

    /// <summary>Fails every pending waiter. The caller holds the owner's lock.</summary>
    public void Dispose(string ownerName)
    {
        _disposed = true;
        foreach (var waiter in _waiters)
        {
            waiter.Completion.TrySetException(new ObjectDisposedException(ownerName));
        }

        _waiters.Clear();
    }

    private sealed class Waiter(Func<object?> probe)
    {
        public Func<object?> Probe { get; } = probe;

        public TaskCompletionSource<object> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }
}

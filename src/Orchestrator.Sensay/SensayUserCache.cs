namespace Orchestrator.Sensay;

/// <summary>
/// Remembers Telegram users known to exist in Sensay (bounded, oldest forgotten first) and merges concurrent
/// first-time checks of one user into one. A singleton shared by every <see cref="SensayClient"/>.
/// </summary>
public sealed class SensayUserCache(int capacity = 100_000)
{
    private readonly HashSet<long> _known = [];
    private readonly Queue<long> _order = new();
    private readonly Dictionary<long, Task> _inFlight = [];
    private readonly Lock _lock = new();

    /// <summary>How many users are remembered.</summary>
    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _known.Count;
            }
        }
    }

    /// <summary>True when the user is known to exist.</summary>
    public bool IsKnown(long userId)
    {
        lock (_lock)
        {
            return _known.Contains(userId);
        }
    }

    /// <summary>
    /// Runs <paramref name="ensure"/> for <paramref name="userId"/> unless the user is known or a run is already in
    /// flight (then waits for that one). Success remembers the user; a failure is not remembered. The shared run is
    /// not cancelled by one waiter's <paramref name="cancellationToken"/>.
    /// </summary>
    public Task EnsureAsync(long userId, Func<long, Task> ensure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(ensure);
        TaskCompletionSource? owned = null;
        Task? run;
        lock (_lock)
        {
            if (_known.Contains(userId))
            {
                return Task.CompletedTask;
            }

            if (!_inFlight.TryGetValue(userId, out run))
            {
                owned = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                run = owned.Task;
                _inFlight[userId] = run;
            }
        }

        if (owned is not null)
        {
            _ = RunAsync(userId, ensure, owned);
        }

        return run.WaitAsync(cancellationToken);
    }

    private async Task RunAsync(long userId, Func<long, Task> ensure, TaskCompletionSource completion)
    {
        Exception? failure = null;
        try
        {
            await ensure(userId).ConfigureAwait(false);
            Remember(userId);
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        lock (_lock)
        {
            _inFlight.Remove(userId);
        }

        if (failure is null)
        {
            completion.SetResult();
        }
        else
        {
            completion.SetException(failure);
        }
    }

    private void Remember(long userId)
    {
        lock (_lock)
        {
            if (!_known.Add(userId))
            {
                return;
            }

            _order.Enqueue(userId);
            while (_known.Count > capacity && _order.TryDequeue(out var oldest))
            {
                _known.Remove(oldest);
            }
        }
    }
}

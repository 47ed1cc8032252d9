namespace Orchestrator.Grains;

/// <summary>
/// Serialises the writes of one grain's persistent state and coalesces the requests made meanwhile: two overlapping
/// writes of one <c>IPersistentState</c> would conflict on its ETag. At most one write runs and one more is queued;
/// a caller's task completes once a write that started after its call has completed (or fails with it). Used only on
/// the grain's scheduler, so it needs no lock.
/// </summary>
internal sealed class StateWriteQueue(Func<Task> write)
{
    private Task _running = Task.CompletedTask;
    private bool _pending;

    /// <summary>Requests a write of the state as it is now.</summary>
    public Task WriteAsync()
    {
        _pending = true;
        if (_running.IsCompleted)
        {
            // Checked by completion, not by a reset field: a write that completes synchronously must not leave a
            // finished task behind that later callers would take for a write in flight.
            _running = RunAsync();
        }

        return _running;
    }

    private async Task RunAsync()
    {
        try
        {
            while (_pending)
            {
                _pending = false;
                await write();
            }
        }
        finally
        {
            // Not kept until the next write: a finished run's task holds its state machine, and the writes of a
            // grain that hears a message every few seconds would otherwise each leave one behind for a collection to
            // find old and promote. (When the run finished synchronously, WriteAsync stores a completed task anyway.)
            _running = Task.CompletedTask;
        }
    }
}

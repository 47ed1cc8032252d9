using Orchestrator.Grains;

namespace Orchestrator.Tests.Grains;

public sealed class StateWriteQueueTests
{
    private readonly List<TaskCompletionSource> _writes = [];

    private Task Write()
    {
        // Continuations run inline: completing a write runs the queue's loop on to its next write at once.
        var write = new TaskCompletionSource();
        _writes.Add(write);
        return write.Task;
    }

    [Fact]
    public async Task Requests_made_while_a_write_runs_are_coalesced_into_one_more_write()
    {
        var queue = new StateWriteQueue(Write);

        var first = queue.WriteAsync();
        var second = queue.WriteAsync();
        var third = queue.WriteAsync();
        Assert.Single(_writes);

        _writes[0].SetResult();
        Assert.Equal(2, _writes.Count);
        Assert.False(second.IsCompleted); // the state it asked for is only in the second write
        Assert.Same(second, third);

        _writes[1].SetResult();
        await Task.WhenAll(first, second, third);
        Assert.Equal(2, _writes.Count);
    }

    [Fact]
    public async Task A_request_after_a_finished_write_starts_a_new_one()
    {
        var queue = new StateWriteQueue(Write);
        var first = queue.WriteAsync();
        _writes[0].SetResult();
        await first;

        var next = queue.WriteAsync();

        Assert.Equal(2, _writes.Count);
        Assert.False(next.IsCompleted);
        _writes[1].SetResult();
        await next;
    }

    [Fact]
    public async Task Writes_that_complete_synchronously_never_block_later_requests()
    {
        var writes = 0;
        var queue = new StateWriteQueue(() =>
        {
            writes++;
            return Task.CompletedTask;
        });

        await queue.WriteAsync();
        await queue.WriteAsync();

        Assert.Equal(2, writes);
    }

    [Fact]
    public async Task A_failed_write_fails_its_callers_and_the_next_request_writes_again()
    {
        var queue = new StateWriteQueue(Write);
        var failed = queue.WriteAsync();
        _writes[0].SetException(new InvalidOperationException("storage down"));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => failed);
        Assert.Equal("storage down", error.Message);

        var next = queue.WriteAsync();
        Assert.Equal(2, _writes.Count);
        _writes[1].SetResult();
        await next;
    }
}

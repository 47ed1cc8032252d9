using Microsoft.Extensions.Options;
using Orchestrator.Grains.Bots;
using Orchestrator.Grains.Conversations;

namespace Orchestrator.Tests.Bots;

public sealed class UpstreamLimiterTests
{
    [Fact]
    public async Task The_limiter_is_full_exactly_while_every_slot_is_held_and_a_freed_slot_goes_to_the_next_waiter()
    {
        using var limiter = new UpstreamLimiter(Options.Create(new BotOptions { MaxConcurrentCompletions = 2 }));
        Assert.False(limiter.Full);

        var first = await limiter.AcquireAsync(TestContext.Current.CancellationToken);
        Assert.False(limiter.Full);
        var second = await limiter.AcquireAsync(TestContext.Current.CancellationToken);
        Assert.True(limiter.Full);

        var third = limiter.AcquireAsync(TestContext.Current.CancellationToken);
        Assert.False(third.IsCompleted);
        first.Dispose();
        var thirdSlot = await third;
        Assert.True(limiter.Full);

        second.Dispose();
        thirdSlot.Dispose();
        Assert.False(limiter.Full);
    }
}

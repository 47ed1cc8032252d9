using Orchestrator.Abstractions;
using Orchestrator.Grains.Bots;

namespace Orchestrator.Tests.Bots;

public sealed class LocalBotTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 30, 12, 0, 0, TimeSpan.Zero);
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    private static LocalBot Running(TaskCompletionSource loop)
    {
        var bot = new LocalBot("r");
        bot.SetDefinition(new BotDefinition("r", "s", null, "1:t"));
        bot.RunStarted(loop.Task);
        bot.Status = BotStatus.Running;
        return bot;
    }

    [Fact]
    public void A_loop_within_its_deadline_needs_nothing()
    {
        var bot = Running(new TaskCompletionSource());
        Assert.False(bot.NeedsCheck(Now, Grace));

        bot.ExpectActivityBy(Now + TimeSpan.FromSeconds(55));
        Assert.False(bot.NeedsCheck(Now + TimeSpan.FromSeconds(60), Grace));
        Assert.Equal(BotStatus.Running, bot.ObservedStatus(Now + TimeSpan.FromSeconds(55)));
    }

    [Fact]
    public void A_loop_past_its_deadline_plus_grace_needs_a_check_and_shows_unhealthy()
    {
        var bot = Running(new TaskCompletionSource());
        bot.Progressed(Now);
        bot.ExpectActivityBy(Now);

        Assert.Equal(BotStatus.Unhealthy, bot.ObservedStatus(Now + TimeSpan.FromSeconds(1)));
        Assert.False(bot.NeedsCheck(Now + Grace, Grace));
        Assert.True(bot.NeedsCheck(Now + Grace + TimeSpan.FromTicks(1), Grace));
    }

    [Fact]
    public void An_ended_or_stopped_loop_needs_a_check()
    {
        var loop = new TaskCompletionSource();
        var bot = Running(loop);
        loop.SetResult();
        Assert.True(bot.NeedsCheck(Now, Grace));

        var stopped = Running(new TaskCompletionSource());
        stopped.RunStopped();
        Assert.True(stopped.NeedsCheck(Now, Grace));
    }

    [Fact]
    public void A_failed_bot_needs_nothing_from_the_supervisor()
    {
        var loop = new TaskCompletionSource();
        var bot = Running(loop);
        loop.SetResult();
        bot.Status = BotStatus.Failed;

        Assert.False(bot.NeedsCheck(Now, Grace));
    }

    [Fact]
    public void The_registry_forgets_an_activation_only_if_no_newer_one_replaced_it()
    {
        var registry = new LocalBots();
        var first = registry.Track("r");
        var second = registry.Track("r");

        registry.Forget(first);
        Assert.Same(second, Assert.Single(registry.All));

        registry.Forget(second);
        Assert.Empty(registry.All);
    }

    [Fact]
    public void The_watchdog_cancels_a_poll_only_once_it_is_past_its_deadline()
    {
        var registry = new LocalBots();
        var bot = registry.Track("r");
        using var poll = new CancellationTokenSource();
        bot.PollStarted(poll, Now + TimeSpan.FromSeconds(56));

        Assert.Equal(0, registry.CancelHungPolls(Now + TimeSpan.FromSeconds(56)));
        Assert.False(poll.IsCancellationRequested);

        Assert.Equal(1, registry.CancelHungPolls(Now + TimeSpan.FromSeconds(57)));
        Assert.True(poll.IsCancellationRequested);
    }

    [Fact]
    public void A_running_bot_without_progress_in_time_shows_unhealthy_while_its_loop_keeps_its_deadlines()
    {
        var bot = Running(new TaskCompletionSource());
        Assert.Null(bot.HealthyUntil);
        bot.Progressed(Now + TimeSpan.FromSeconds(51));
        bot.ExpectActivityBy(Now + TimeSpan.FromSeconds(56));

        Assert.Equal(BotStatus.Running, bot.ObservedStatus(Now + TimeSpan.FromSeconds(51)));
        Assert.Equal(BotStatus.Unhealthy, bot.ObservedStatus(Now + TimeSpan.FromSeconds(52)));
        Assert.Equal(Now + TimeSpan.FromSeconds(51), bot.HealthyUntil);
        // Unhealthy is not yet hung: the supervisor steps in only once the loop breaks its own deadline.
        Assert.False(bot.NeedsCheck(Now + TimeSpan.FromSeconds(56), Grace));

        bot.Progressed(Now + TimeSpan.FromSeconds(103));
        Assert.Equal(BotStatus.Running, bot.ObservedStatus(Now + TimeSpan.FromSeconds(52)));
    }

    [Fact]
    public void The_watchdog_leaves_alone_a_bot_between_polls_and_a_disposed_poll()
    {
        var registry = new LocalBots();
        var ended = registry.Track("ended");
        using var answered = new CancellationTokenSource();
        ended.PollStarted(answered, Now);
        ended.PollEnded();
        ended.ExpectActivityBy(Now); // waiting (say a retry delay) past its deadline: the supervisor's business, not the watchdog's

        var stopped = registry.Track("stopped");
        var disposed = new CancellationTokenSource();
        stopped.PollStarted(disposed, Now);
        disposed.Dispose(); // its run stopped and disposed the source before the poll ended

        Assert.Equal(0, registry.CancelHungPolls(Now + TimeSpan.FromMinutes(5)));
        Assert.False(answered.IsCancellationRequested);
    }
}

using Microsoft.Extensions.Time.Testing;
using Orchestrator.Telegram;

namespace Orchestrator.Tests.Telegram;

public sealed class FloodLimiterTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void Ten_messages_are_allowed_the_eleventh_warns_and_the_twelfth_is_skipped()
    {
        var limiter = new FloodLimiter(_time);

        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(FloodVerdict.Allow, limiter.Check(42));
            _time.Advance(TimeSpan.FromMilliseconds(100));
        }

        Assert.Equal(FloodVerdict.Warn, limiter.Check(42));
        Assert.Equal(FloodVerdict.Skip, limiter.Check(42));
        Assert.Equal(FloodVerdict.Skip, limiter.Check(42));
    }

    [Fact]
    public void After_the_window_passes_the_user_is_allowed_again_and_can_be_warned_again()
    {
        var limiter = new FloodLimiter(_time);
        for (var i = 0; i < 12; i++)
        {
            limiter.Check(42);
        }

        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.Equal(FloodVerdict.Allow, limiter.Check(42));
        for (var i = 0; i < 9; i++)
        {
            Assert.Equal(FloodVerdict.Allow, limiter.Check(42));
        }

        Assert.Equal(FloodVerdict.Warn, limiter.Check(42));
    }

    [Fact]
    public void Messages_spread_over_more_than_the_window_are_all_allowed()
    {
        var limiter = new FloodLimiter(_time);

        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(FloodVerdict.Allow, limiter.Check(42));
            _time.Advance(TimeSpan.FromSeconds(1.01));
        }
    }

    [Fact]
    public void Users_are_limited_independently()
    {
        var limiter = new FloodLimiter(_time);
        for (var i = 0; i < 11; i++)
        {
            limiter.Check(1);
        }

        Assert.Equal(FloodVerdict.Allow, limiter.Check(2));
    }

    [Fact]
    public void Idle_users_are_forgotten()
    {
        var limiter = new FloodLimiter(_time);
        for (var user = 0; user < 300; user++)
        {
            limiter.Check(user);
        }

        _time.Advance(TimeSpan.FromSeconds(11));
        for (var user = 1000; user < 1300; user++)
        {
            limiter.Check(user);
        }

        Assert.True(limiter.TrackedUsers <= 300, $"tracked {limiter.TrackedUsers}");
    }
}

using Orchestrator.Grains.Bots;

namespace Orchestrator.Tests.Bots;

public sealed class BackoffTests
{
    private static readonly TimeSpan Initial = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Cap = TimeSpan.FromMinutes(5);

    [Theory]
    [InlineData(1, 5)]
    [InlineData(2, 10)]
    [InlineData(3, 20)]
    [InlineData(4, 40)]
    [InlineData(5, 80)]
    [InlineData(6, 160)]
    public void Restart_delay_starts_at_the_health_interval_and_doubles(int failures, int expectedSeconds) =>
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), Backoff.RestartDelay(failures, Initial, Cap));

    [Theory]
    [InlineData(7)]
    [InlineData(30)]
    [InlineData(1_000_000)]
    public void Restart_delay_never_exceeds_the_cap(int failures) =>
        Assert.Equal(Cap, Backoff.RestartDelay(failures, Initial, Cap));

    [Fact]
    public void Restart_delay_is_the_cap_when_the_first_delay_is_already_above_it() =>
        Assert.Equal(Cap, Backoff.RestartDelay(1, TimeSpan.FromMinutes(10), Cap));

    [Fact]
    public void Restart_delay_rejects_a_zero_failure_count() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Backoff.RestartDelay(0, Initial, Cap));

    [Theory]
    [InlineData(1, 0.0, 0.8)]
    [InlineData(1, 0.999, 1.2)]
    [InlineData(3, 0.5, 4.0)]
    [InlineData(20, 0.5, 30.0)]
    public void Transient_retry_doubles_from_one_second_to_thirty_with_jitter(int attempt, double random, double expectedSeconds) =>
        Assert.Equal(expectedSeconds, Backoff.TransientRetryDelay(attempt, TimeSpan.FromSeconds(1), random).TotalSeconds, precision: 2);

    [Fact]
    public void Conflict_delay_stays_between_one_and_two_and_a_half_times_the_minimum()
    {
        Assert.Equal(TimeSpan.FromSeconds(2), Backoff.ConflictDelay(TimeSpan.FromSeconds(2), 0));
        Assert.True(Backoff.ConflictDelay(TimeSpan.FromSeconds(2), 0.999) < TimeSpan.FromSeconds(5));
    }

    [Theory]
    [InlineData(0, false, 1)]
    [InlineData(1, false, 2)]
    [InlineData(2, false, 4)]
    [InlineData(9, false, 4)]
    [InlineData(0, true, 4)]
    [InlineData(1, true, 4)]
    public void Busy_poll_waits_double_with_fruitless_polls_and_are_longest_while_the_upstream_is_full(int fruitlessPolls, bool upstreamFull, int expectedSeconds) =>
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), Backoff.BusyPollDelay(TimeSpan.FromSeconds(1), fruitlessPolls, upstreamFull));
}

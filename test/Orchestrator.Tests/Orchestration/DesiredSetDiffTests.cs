using Orchestrator.Abstractions;
using Orchestrator.Grains.Orchestration;

namespace Orchestrator.Tests.Orchestration;

public sealed class DesiredSetDiffTests
{
    private static BotDefinition Bot(string id, string slug = "slug", string? owner = "owner", string token = "1:a") => new(id, slug, owner, token);

    private static Dictionary<string, BotDefinition> Current(params BotDefinition[] bots) => bots.ToDictionary(b => b.ReplicaUuid);

    [Fact]
    public void New_bots_are_added()
    {
        var diff = DesiredSetDiff.Compute(Current(Bot("a")), [Bot("a"), Bot("b")]);
        Assert.Equal(["b"], diff.Added.Select(b => b.ReplicaUuid));
        Assert.Equal(["a"], diff.Unchanged.Select(b => b.ReplicaUuid));
        Assert.Empty(diff.Changed);
        Assert.Empty(diff.Removed);
        Assert.False(diff.IsEmpty);
    }

    [Theory]
    [InlineData("other-slug", "owner", "1:a")]
    [InlineData("slug", "other-owner", "1:a")]
    [InlineData("slug", null, "1:a")]
    [InlineData("slug", "owner", "1:b")]
    public void A_changed_token_slug_or_owner_is_a_change(string slug, string? owner, string token)
    {
        var diff = DesiredSetDiff.Compute(Current(Bot("a")), [Bot("a", slug, owner, token)]);
        var changed = Assert.Single(diff.Changed);
        Assert.Equal(token, changed.Token);
        Assert.Empty(diff.Added);
        Assert.Empty(diff.Unchanged);
    }

    [Fact]
    public void Bots_upstream_no_longer_has_are_removed()
    {
        var diff = DesiredSetDiff.Compute(Current(Bot("a"), Bot("b"), Bot("c")), [Bot("b")]);
        Assert.Equal(["a", "c"], diff.Removed);
    }

    [Fact]
    public void The_same_set_is_an_empty_diff()
    {
        var diff = DesiredSetDiff.Compute(Current(Bot("a"), Bot("b")), [Bot("b"), Bot("a")]);
        Assert.True(diff.IsEmpty);
        Assert.Equal(2, diff.Unchanged.Count);
    }

    [Fact]
    public void A_replica_listed_twice_counts_once_and_the_last_wins()
    {
        var diff = DesiredSetDiff.Compute(Current(), [Bot("a", token: "1:old"), Bot("a", token: "1:new")]);
        Assert.Equal("1:new", Assert.Single(diff.Added).Token);
    }

    [Fact]
    public void An_empty_upstream_removes_everything()
    {
        var diff = DesiredSetDiff.Compute(Current(Bot("a"), Bot("b")), []);
        Assert.Equal(["a", "b"], diff.Removed);
        Assert.Empty(diff.Unchanged);
    }
}

public sealed class MassRemovalGuardTests
{
    private static readonly HashSet<string> NothingHeld = [];

    [Fact]
    public void Removing_half_or_less_applies_at_once()
    {
        Assert.True(MassRemovalGuard.MayApply(10, ["a", "b", "c", "d", "e"], NothingHeld));
        Assert.True(MassRemovalGuard.MayApply(10, [], NothingHeld));
    }

    [Fact]
    public void Removing_more_than_half_is_held_the_first_time() =>
        Assert.False(MassRemovalGuard.MayApply(10, ["a", "b", "c", "d", "e", "f"], NothingHeld));

    [Fact]
    public void The_next_reload_removing_the_same_bots_confirms_it() =>
        Assert.True(MassRemovalGuard.MayApply(10, ["a", "b", "c", "d", "e", "f"], new HashSet<string> { "a", "b", "c", "d", "e", "f" }));

    [Fact]
    public void A_different_mass_removal_is_not_a_confirmation() =>
        Assert.False(MassRemovalGuard.MayApply(10, ["a", "b", "c", "d", "e", "g"], new HashSet<string> { "a", "b", "c", "d", "e", "f" }));

    [Fact]
    public void Removing_the_only_bot_is_a_mass_removal() =>
        Assert.False(MassRemovalGuard.MayApply(1, ["a"], NothingHeld));
}

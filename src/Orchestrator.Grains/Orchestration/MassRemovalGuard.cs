namespace Orchestrator.Grains.Orchestration;

/// <summary>
/// Holds back a reload that would stop more than half of the bots at once (an upstream outage that answers an empty
/// or truncated list looks exactly like that) until the next reload confirms it.
/// </summary>
public static class MassRemovalGuard
{
    /// <summary>
    /// Whether <paramref name="removed"/> may be applied now. <paramref name="held"/> is what the previous reload
    /// held back (empty if nothing); the removal is confirmed when the previous reload wanted to remove those bots too.
    /// </summary>
    public static bool MayApply(int currentCount, IReadOnlyCollection<string> removed, IReadOnlySet<string> held)
    {
        if (removed.Count * 2 <= currentCount)
        {
            return true;
        }

        if (held.Count == 0)
        {
            return false;
        }

        // A set, not the list: 10,000 held removals against a 10,000-item list would be 10^8 comparisons.
        var removing = removed as IReadOnlySet<string> ?? removed.ToHashSet(StringComparer.Ordinal);
        return held.All(removing.Contains);
    }
}

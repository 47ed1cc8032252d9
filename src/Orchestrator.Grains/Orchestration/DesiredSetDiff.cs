using Orchestrator.Abstractions;

namespace Orchestrator.Grains.Orchestration;

/// <summary>How the desired set changes when an upstream reload is applied.</summary>
/// <param name="Added">Bots upstream has and we do not.</param>
/// <param name="Changed">Bots whose token, slug or owner changed upstream (the new definitions).</param>
/// <param name="Removed">replicaUUIDs of bots upstream no longer has.</param>
/// <param name="Unchanged">Bots that stay as they are.</param>
public sealed record DesiredSetDiff(
    IReadOnlyList<BotDefinition> Added,
    IReadOnlyList<BotDefinition> Changed,
    IReadOnlyList<string> Removed,
    IReadOnlyList<BotDefinition> Unchanged)
{
    /// <summary>True when applying the diff changes nothing.</summary>
    public bool IsEmpty => Added.Count == 0 && Changed.Count == 0 && Removed.Count == 0;

    /// <summary>
    /// Compares the <paramref name="current"/> desired set with what upstream says now. When upstream lists one
    /// replicaUUID twice, the last one wins (a page boundary shifting between two requests can repeat an item).
    /// </summary>
    public static DesiredSetDiff Compute(IReadOnlyDictionary<string, BotDefinition> current, IEnumerable<BotDefinition> upstream)
    {
        var wanted = new Dictionary<string, BotDefinition>(StringComparer.Ordinal);
        foreach (var definition in upstream)
        {
            wanted[definition.ReplicaUuid] = definition;
        }

        List<BotDefinition> added = [], changed = [], unchanged = [];
        foreach (var definition in wanted.Values)
        {
            if (!current.TryGetValue(definition.ReplicaUuid, out var existing))
            {
                added.Add(definition);
            }
            else if (existing != definition)
            {
                changed.Add(definition);
            }
            else
            {
                unchanged.Add(definition);
            }
        }

        var removed = current.Keys.Where(id => !wanted.ContainsKey(id)).Order(StringComparer.Ordinal).ToList();
        return new DesiredSetDiff(added, changed, removed, unchanged);
    }
}

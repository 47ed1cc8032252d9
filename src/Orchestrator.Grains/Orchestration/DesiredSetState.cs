using Orchestrator.Abstractions;

namespace Orchestrator.Grains.Orchestration;

/// <summary>The desired set of bots, persisted by the <see cref="OrchestratorGrain"/>.</summary>
[GenerateSerializer, Alias("orchestrator.desired-set-state")]
public sealed class DesiredSetState
{
    /// <summary>Bot definitions by replicaUUID.</summary>
    [Id(0)] public Dictionary<string, BotDefinition> Bots { get; set; } = new(StringComparer.Ordinal);
}

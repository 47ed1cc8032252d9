using Orchestrator.Abstractions;

namespace Orchestrator.Grains.Orchestration;

/// <summary>The source when no upstream is configured: the REST API alone defines the bots.</summary>
public sealed class NoUpstreamSource : IBotDefinitionSource
{
    public bool IsConfigured => false;

    public Task<IReadOnlyList<BotDefinition>> LoadAsync(CancellationToken cancellationToken) =>
        throw new InvalidOperationException("No upstream is configured.");
}

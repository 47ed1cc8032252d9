using Orchestrator.Abstractions;

namespace Orchestrator.Grains.Orchestration;

/// <summary>Where the desired set of bots comes from upstream (the Sensay API).</summary>
public interface IBotDefinitionSource
{
    /// <summary>False when no upstream is configured: the REST API alone defines the bots.</summary>
    bool IsConfigured { get; }

    /// <summary>
    /// Loads every bot that should run here. All or nothing: any failure part-way (an error, a timeout, malformed
    /// JSON, a missing page, <c>total</c> changing between pages) throws <see cref="BotSourceException"/>.
    /// </summary>
    Task<IReadOnlyList<BotDefinition>> LoadAsync(CancellationToken cancellationToken);
}

/// <summary>A reload that could not load the complete desired set; nothing is changed.</summary>
public sealed class BotSourceException(string message, Exception? innerException = null) : Exception(message, innerException);

namespace Orchestrator.Abstractions;

/// <summary>How a reload of the desired set from upstream ended.</summary>
[GenerateSerializer]
public enum ReloadOutcome
{
    /// <summary>Loaded and applied (possibly with no change).</summary>
    Applied = 0,

    /// <summary>Loaded; additions and changes applied, but a mass removal is held until the next reload confirms it.</summary>
    RemovalHeld = 1,

    /// <summary>Loading failed part-way; nothing changed.</summary>
    Failed = 2,

    /// <summary>No upstream is configured (<c>SENSAY_API_URL</c> unset).</summary>
    NotConfigured = 3,
}

/// <summary>What one reload did.</summary>
[GenerateSerializer, Immutable, Alias("orchestrator.reload-report")]
public sealed record ReloadReport
{
    [Id(0)] public required ReloadOutcome Outcome { get; init; }
    [Id(1)] public int Added { get; init; }
    [Id(2)] public int Changed { get; init; }
    [Id(3)] public int Removed { get; init; }
    /// <summary>Failed bots revived with a fresh counter.</summary>
    [Id(4)] public int Revived { get; init; }
    [Id(5)] public int Held { get; init; }
    [Id(6)] public TimeSpan Duration { get; init; }
    [Id(7)] public string? Error { get; init; }
}

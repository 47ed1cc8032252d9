namespace Orchestrator.Abstractions;

/// <summary>Grain storage provider names. Both are registered by the host: in memory (embedded) or on Redis (cluster).</summary>
public static class StorageNames
{
    /// <summary>Per-bot state: definition, Telegram offset, handled update ids, restart counters.</summary>
    public const string Bots = "bots";

    /// <summary>The desired set of bots held by the <c>OrchestratorGrain</c>.</summary>
    public const string Orchestrator = "orchestrator";
}

/// <summary>Persistent-state names inside a storage provider.</summary>
public static class StateNames
{
    public const string Bot = "bot";
    public const string DesiredSet = "desired";
}

/// <summary>Reminder names.</summary>
public static class ReminderNames
{
    /// <summary>Wakes the <c>OrchestratorGrain</c> if its silo died; the real cadence runs on grain timers.</summary>
    public const string OrchestratorKeepAlive = "orchestrator-keepalive";
}

/// <summary>Constant grain keys.</summary>
public static class GrainKeys
{
    /// <summary>The one <c>OrchestratorGrain</c> of a cluster.</summary>
    public const string Orchestrator = "orchestrator";

    /// <summary>The key of <see cref="IProbeGrain"/> (a stateless worker: one local activation per silo).</summary>
    public const long Probe = 0;
}

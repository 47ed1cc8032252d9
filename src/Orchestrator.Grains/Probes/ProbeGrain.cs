using Orchestrator.Abstractions;
using Orleans.Concurrency;

namespace Orchestrator.Grains.Probes;

/// <summary>
/// Answers the readiness probe. A stateless worker is always activated on the calling silo, so the probe of one
/// silo never waits for another (a dead silo elsewhere must not make every instance unready at once).
/// </summary>
[StatelessWorker(1)]
public sealed class ProbeGrain : Grain, IProbeGrain
{
    Task IProbeGrain.PingAsync() => Task.CompletedTask;
}

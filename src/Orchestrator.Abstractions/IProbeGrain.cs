namespace Orchestrator.Abstractions;

/// <summary>
/// The readiness probe's grain: a stateless worker, so every silo activates its own copy locally. A call that
/// returns proves this silo's grain runtime (scheduler, messaging) serves requests, without depending on any other
/// silo being alive. Use key <see cref="GrainKeys.Probe"/>.
/// </summary>
public interface IProbeGrain : IGrainWithIntegerKey
{
    /// <summary>Returns at once.</summary>
    Task PingAsync();
}

namespace Orchestrator.Abstractions;

/// <summary>
/// A silo's report to the orchestrator: the bots it hosts whose loops are healthy, each with the fingerprint of the
/// definition it runs (a digest; never the token) and its status. The orchestrator's health sweep leaves these bots
/// alone, and its status table counts them without calling them. The arrays run in parallel.
/// </summary>
[GenerateSerializer, Immutable, Alias("orchestrator.hosted-bots-report")]
public sealed record HostedBotsReport(
    [property: Id(0)] SiloAddress Silo,
    [property: Id(1)] string[] ReplicaUuids,
    [property: Id(2)] long[] Fingerprints,
    [property: Id(3)] BotStatus[] Statuses);

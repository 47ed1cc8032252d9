using Orchestrator.Abstractions;
using Orchestrator.Grains.Bots;

namespace Orchestrator.Grains.Orchestration;

/// <summary>
/// The latest <see cref="HostedBotsReport"/> of each silo, and from them which desired bots the health sweep must call:
/// every bot that no active silo reported healthy, recently, with the definition the orchestrator wants. That is a
/// dead silo's bots (the call re-activates them on a survivor), bots whose loop hangs or died, bots that lost or never
/// got their definition, and bots activated since their silo last reported. Not thread-safe: the grain's own.
/// </summary>
internal sealed class HostedBots
{
    private readonly Dictionary<SiloAddress, (Dictionary<string, (long Fingerprint, BotStatus Status)> Bots, DateTimeOffset At)> _silos = [];
    private readonly Dictionary<string, (BotDefinition Definition, long Fingerprint)> _fingerprints = new(StringComparer.Ordinal);

    /// <summary>Keeps <paramref name="report"/> as its silo's latest.</summary>
    public void Record(HostedBotsReport report, DateTimeOffset now)
    {
        var count = Math.Min(report.ReplicaUuids.Length, Math.Min(report.Fingerprints.Length, report.Statuses.Length));

        // The silo's previous table is refilled rather than replaced: a silo reports every health-check interval,
        // and would otherwise leave a table of all its bots to the garbage collector each time.
        if (_silos.TryGetValue(report.Silo, out var previous))
        {
            previous.Bots.Clear();
        }

        var bots = previous.Bots ?? new Dictionary<string, (long, BotStatus)>(count, StringComparer.Ordinal);
        for (var i = 0; i < count; i++)
        {
            bots[report.ReplicaUuids[i]] = (report.Fingerprints[i], report.Statuses[i]);
        }

        _silos[report.Silo] = (bots, now);
    }

    /// <summary>Forgets the reports of silos that are no longer active, or whose report is older than <paramref name="oldest"/>.</summary>
    public void Prune(Func<SiloAddress, bool> isActive, DateTimeOffset oldest)
    {
        foreach (var (silo, report) in _silos.ToArray())
        {
            if (!isActive(silo) || report.At < oldest)
            {
                _silos.Remove(silo);
            }
        }
    }

    /// <summary>True when a kept report comes from a silo that is no longer active (until the next prune).</summary>
    public bool HasReportFromInactive(Func<SiloAddress, bool> isActive) => _silos.Keys.Any(silo => !isActive(silo));

    /// <summary>The desired bots that no kept report shows healthy with their desired definition.</summary>
    public List<BotDefinition> NeedingCheck(IReadOnlyCollection<BotDefinition> desired) => Unreported(desired, runningOnly: false);

    /// <summary>
    /// The desired bots that no kept report shows running with their desired definition: the status table asks these
    /// for their details, and counts the others as running without calling them.
    /// </summary>
    public List<BotDefinition> NotReportedRunning(IReadOnlyCollection<BotDefinition> desired) => Unreported(desired, runningOnly: true);

    private List<BotDefinition> Unreported(IReadOnlyCollection<BotDefinition> desired, bool runningOnly)
    {
        // Plain loops, no closure per bot: the sweep runs every health-check interval over every desired bot.
        var unreported = new List<BotDefinition>();
        foreach (var definition in desired)
        {
            if (!IsReported(definition.ReplicaUuid, FingerprintOf(definition), runningOnly))
            {
                unreported.Add(definition);
            }
        }

        if (_fingerprints.Count > desired.Count)
        {
            // Bots left the desired set: forget their fingerprints.
            var ids = desired.Select(d => d.ReplicaUuid).ToHashSet(StringComparer.Ordinal);
            foreach (var id in _fingerprints.Keys.Where(id => !ids.Contains(id)).ToArray())
            {
                _fingerprints.Remove(id);
            }
        }

        return unreported;
    }

    private bool IsReported(string replicaUuid, long fingerprint, bool runningOnly)
    {
        foreach (var (bots, _) in _silos.Values)
        {
            if (bots.TryGetValue(replicaUuid, out var reported)
                && reported.Fingerprint == fingerprint
                && (!runningOnly || reported.Status == BotStatus.Running))
            {
                return true;
            }
        }

        return false;
    }

    private long FingerprintOf(BotDefinition definition)
    {
        if (!_fingerprints.TryGetValue(definition.ReplicaUuid, out var cached) || !ReferenceEquals(cached.Definition, definition))
        {
            cached = (definition, BotDefinitionFingerprint.Of(definition));
            _fingerprints[definition.ReplicaUuid] = cached;
        }

        return cached.Fingerprint;
    }
}

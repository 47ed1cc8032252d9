using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Orchestrator.Abstractions;

namespace Orchestrator.Grains.Telemetry;

/// <summary>
/// The service's metrics (<c>System.Diagnostics.Metrics</c>, meter <see cref="MeterName"/>), exported by the host.
/// Counts are per silo; a scraper sums them across the cluster.
/// </summary>
public sealed class OrchestratorMetrics
{
    /// <summary>The meter's name, for exporters.</summary>
    public const string MeterName = "Orchestrator";

    private readonly ConcurrentDictionary<string, BotStatus> _statuses = new(StringComparer.Ordinal);
    private readonly Counter<long> _restarts;
    private readonly Counter<long> _updates;
    private readonly Histogram<double> _handlingDuration;
    private readonly Counter<long> _telegramErrors;
    private readonly Counter<long> _conflicts;
    private readonly Histogram<double> _reloadDuration;

    public OrchestratorMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("orchestrator.bots", ObserveStatuses, unit: "{bot}", description: "Bots hosted by this silo, by status.");
        _restarts = meter.CreateCounter<long>("orchestrator.bot.restarts", unit: "{restart}", description: "Restarts of bot loops.");
        _updates = meter.CreateCounter<long>("orchestrator.updates", unit: "{update}", description: "Telegram updates handled (answered or deliberately skipped) or given up.");
        _handlingDuration = meter.CreateHistogram<double>("orchestrator.update.duration", unit: "s", description: "Time from receiving an update to having handled it (reply sent), upstream time included.");
        _telegramErrors = meter.CreateCounter<long>("orchestrator.telegram.errors", unit: "{error}", description: "Telegram errors, by error code (or 'transport') and method.");
        _conflicts = meter.CreateCounter<long>("orchestrator.telegram.conflicts", unit: "{conflict}", description: "409 answers: another poller held a bot's token.");
        _reloadDuration = meter.CreateHistogram<double>("orchestrator.reload.duration", unit: "s", description: "Duration of reloads from upstream, by outcome.");
    }

    /// <summary>Records the current status of a bot hosted here; null forgets it (deactivated or removed).</summary>
    public void SetStatus(string replicaUuid, BotStatus? status)
    {
        if (status is { } value)
        {
            _statuses[replicaUuid] = value;
        }
        else
        {
            _statuses.TryRemove(replicaUuid, out _);
        }
    }

    public void Restarted() => _restarts.Add(1);

    public void UpdateHandled(bool skipped, TimeSpan duration)
    {
        _updates.Add(1, new KeyValuePair<string, object?>("outcome", skipped ? "given_up" : "handled"));
        _handlingDuration.Record(duration.TotalSeconds);
    }

    public void TelegramError(string method, string code)
    {
        _telegramErrors.Add(1, new TagList { { "method", method }, { "code", code } });
        if (code == "409")
        {
            _conflicts.Add(1);
        }
    }

    public void Reloaded(ReloadOutcome outcome, TimeSpan duration) =>
        _reloadDuration.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("outcome", outcome.ToString().ToLowerInvariant()));

    private IEnumerable<Measurement<long>> ObserveStatuses()
    {
        var counts = new long[Enum.GetValues<BotStatus>().Length];
        foreach (var status in _statuses.Values)
        {
            counts[(int)status]++;
        }

        for (var i = 0; i < counts.Length; i++)
        {
            yield return new Measurement<long>(counts[i], new KeyValuePair<string, object?>("status", ((BotStatus)i).ToString().ToLowerInvariant()));
        }
    }
}

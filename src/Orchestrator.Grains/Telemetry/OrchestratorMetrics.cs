using System.Diagnostics;
using System.Diagnostics.Metrics;
using Orchestrator.Abstractions;
using Orchestrator.Grains.Bots;

namespace Orchestrator.Grains.Telemetry;

/// <summary>
/// The service's metrics (<c>System.Diagnostics.Metrics</c>, meter <see cref="MeterName"/>), exported by the host.
/// Counts are per silo; a scraper sums them across the cluster.
/// </summary>
public sealed class OrchestratorMetrics
{
    /// <summary>The meter's name, for exporters.</summary>
    public const string MeterName = "Orchestrator";

    private readonly LocalBots _localBots;
    private readonly TimeProvider _time;
    private readonly Counter<long> _restarts;
    private readonly Counter<long> _updates;
    private readonly Histogram<double> _handlingDuration;
    private readonly Counter<long> _telegramErrors;
    private readonly Counter<long> _conflicts;
    private readonly Histogram<double> _reloadDuration;
    private readonly Counter<long> _healthChecks;

    public OrchestratorMetrics(IMeterFactory meterFactory, LocalBots localBots, TimeProvider time)
    {
        _localBots = localBots;
        _time = time;
        var meter = meterFactory.Create(MeterName);
        meter.CreateObservableGauge("orchestrator.bots", ObserveStatuses, unit: "{bot}", description: "Bots hosted by this silo, by status.");
        _restarts = meter.CreateCounter<long>("orchestrator.bot.restarts", unit: "{restart}", description: "Restarts of bot loops.");
        _updates = meter.CreateCounter<long>("orchestrator.updates", unit: "{update}", description: "Telegram updates handled (answered or deliberately skipped) or given up.");
        _handlingDuration = meter.CreateHistogram<double>("orchestrator.update.duration", unit: "s", description: "Time from receiving an update to having handled it (reply sent), upstream time included.");
        _telegramErrors = meter.CreateCounter<long>("orchestrator.telegram.errors", unit: "{error}", description: "Telegram errors, by error code (or 'transport') and method.");
        _conflicts = meter.CreateCounter<long>("orchestrator.telegram.conflicts", unit: "{conflict}", description: "409 answers: another poller held a bot's token.");
        _reloadDuration = meter.CreateHistogram<double>("orchestrator.reload.duration", unit: "s", description: "Duration of reloads from upstream, by outcome.");
        _healthChecks = meter.CreateCounter<long>("orchestrator.health.checks", unit: "{bot}", description: "Bots looked at by the health sweep, by outcome: 'called', or 'vouched' (its silo reported it healthy; not called).");
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

    /// <summary>One health sweep: <paramref name="called"/> of <paramref name="desired"/> bots needed a call.</summary>
    public void HealthSwept(int desired, int called)
    {
        _healthChecks.Add(called, new KeyValuePair<string, object?>("outcome", "called"));
        _healthChecks.Add(desired - called, new KeyValuePair<string, object?>("outcome", "vouched"));
    }

    private IEnumerable<Measurement<long>> ObserveStatuses()
    {
        var counts = new long[Enum.GetValues<BotStatus>().Length];
        var now = _time.GetUtcNow();
        foreach (var bot in _localBots.All)
        {
            if (bot.Fingerprint != 0)
            {
                counts[(int)bot.ObservedStatus(now)]++;
            }
        }

        for (var i = 0; i < counts.Length; i++)
        {
            yield return new Measurement<long>(counts[i], new KeyValuePair<string, object?>("status", ((BotStatus)i).ToString().ToLowerInvariant()));
        }
    }
}

using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Abstractions;
using Orchestrator.Grains.Telemetry;

namespace Orchestrator.Tests.Grains;

/// <summary>The counters and histograms of SPEC §9 that a bot's work records, read from the silos' own meters.</summary>
[Collection(ClusterCollection.Name)]
public sealed class MetricsTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_handled_update_its_duration_and_a_restart_are_measured()
    {
        using var recorder = new Recorder(fixture.Cluster.Silos.Select(s => s.ServiceProvider.GetRequiredService<IMeterFactory>()));
        var bot = fixture.NewBot();
        await fixture.Orchestrator.CreateBotAsync(bot);
        await fixture.Telegram.WaitForPendingPollAsync(bot.Token, Timeout);
        var restartsBefore = recorder.Sum("orchestrator.bot.restarts");

        var update = fixture.Telegram.SendPrivateText(bot.Token, "count me");
        await fixture.Telegram.WaitForConfirmedAsync(bot.Token, update.UpdateId, Timeout);
        Assert.Equal(UpdateBotResult.Updated, await fixture.Orchestrator.UpdateBotAsync(bot.ReplicaUuid, new BotPatch($"{bot.ReplicaSlug}-renamed", null, null)));

        Assert.True(recorder.Sum("orchestrator.updates", ("outcome", "handled")) >= 1, "no handled update counted");
        var durations = recorder.Values("orchestrator.update.duration");
        Assert.NotEmpty(durations);
        Assert.All(durations, d => Assert.InRange(d, 0, Timeout.TotalSeconds));
        Assert.True(recorder.Sum("orchestrator.bot.restarts") > restartsBefore, "the changed definition's restart was not counted");
        await fixture.Orchestrator.DeleteBotAsync(bot.ReplicaUuid);
    }

    /// <summary>Records every measurement of the orchestrator's meter on the given silos.</summary>
    private sealed class Recorder : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly ConcurrentQueue<(string Instrument, double Value, KeyValuePair<string, object?>[] Tags)> _measurements = new();

        public Recorder(IEnumerable<IMeterFactory> silos)
        {
            var scopes = silos.ToHashSet();
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Meter.Name == OrchestratorMetrics.MeterName && instrument.Meter.Scope is IMeterFactory scope && scopes.Contains(scope))
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => _measurements.Enqueue((instrument.Name, value, tags.ToArray())));
            _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => _measurements.Enqueue((instrument.Name, value, tags.ToArray())));
            _listener.Start();
        }

        public double Sum(string instrument, params (string Key, string Value)[] tags) => Values(instrument, tags).Sum();

        public List<double> Values(string instrument, params (string Key, string Value)[] tags) =>
        [
            .. _measurements
                .Where(m => m.Instrument == instrument && tags.All(t => m.Tags.Any(kv => kv.Key == t.Key && Equals(kv.Value, t.Value))))
                .Select(m => m.Value),
        ];

        public void Dispose() => _listener.Dispose();
    }
}

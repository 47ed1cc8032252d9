using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orchestrator.Abstractions;
using Orchestrator.Fakes.Sensay;
using Orchestrator.Grains.Bots;
using Orchestrator.Grains.Orchestration;
using Orchestrator.Tests.Infrastructure;
using Orleans.Storage;

namespace Orchestrator.Tests.Reconciliation;

/// <summary>A one-silo cluster whose orchestrator reloads and prints its status every second, with every log line captured.</summary>
public sealed class CadenceFixture : ReconciliationClusterFixture
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);

    protected override short SiloCount => 1;

    /// <summary>The calls each bot received.</summary>
    public BotCallCounter Calls { get; } = new();

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<IIncomingGrainCallFilter>(Calls);

    protected override void ConfigureLogCapture(LoggerFilterOptions filters) => filters.AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace);

    protected override void Configure(OrchestratorOptions options)
    {
        base.Configure(options);
        options.ReloadInterval = Interval;
        options.PrintStatusInterval = Interval;
    }

    /// <summary>A generous health grace: on a loaded test host a 2 s poll can end late, and the running bot must not show as unhealthy.</summary>
    protected override void Configure(BotOptions options)
    {
        base.Configure(options);
        options.HealthCheckTimeout = TimeSpan.FromSeconds(5);
    }
}

/// <summary>The orchestrator's own cadences: the reload and the status print run without being asked.</summary>
public sealed class CadenceTests(CadenceFixture fixture) : IClassFixture<CadenceFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task The_status_table_is_printed_every_interval_with_the_bots_not_running_and_no_secret()
    {
        var running = ReconciliationClusterFixture.NewReplica();
        var rejected = ReconciliationClusterFixture.NewReplica();
        fixture.Telegram.RevokeToken(rejected.TelegramToken!);
        fixture.Sensay.AddReplica(running);
        fixture.Sensay.AddReplica(rejected);
        await fixture.Orchestrator.EnsureStartedAsync();
        await fixture.Telegram.WaitForPendingPollAsync(running.TelegramToken!, Timeout);

        // A table being built meanwhile may have asked the running bot while it was still starting, and be printed
        // just after: only the tables begun after the next one is printed count.
        static bool IsTable(CapturedLog e) => e.Category == typeof(OrchestratorGrain).FullName && e.Text.StartsWith("Bots: ", StringComparison.Ordinal);
        var pollSeen = DateTimeOffset.UtcNow;
        var runningSince = (await fixture.Logs.WaitForAsync(e => e.Time > pollSeen && IsTable(e), count: 1, "a status table", Timeout))[0].Time;

        // Two consecutive tables that list the rejected bot (failed, or restarting when a reload just revived it).
        var tables = await fixture.Logs.WaitForAsync(
            e => e.Time > runningSince && IsTable(e) && e.Text.Contains(rejected.Slug, StringComparison.Ordinal),
            count: 2,
            "two status tables listing the rejected bot",
            Timeout);

        foreach (var table in tables)
        {
            Assert.Matches(@"^Bots: \d+ desired \| running [1-9]\d* \| unhealthy \d+ \| stopped \d+ \| restarting \d+ \| failed \d+", table.Text);
            Assert.DoesNotContain(running.Slug, table.Text, StringComparison.Ordinal);
        }

        // The running bot is counted from its silo's report: the table no longer calls it (it calls the failed one).
        var asked = fixture.Calls.Of(nameof(IBotGrain.GetStatusAsync), running.Uuid);
        var askedRejected = fixture.Calls.Of(nameof(IBotGrain.GetStatusAsync), rejected.Uuid);
        await fixture.Logs.WaitForAsync(
            e => e.Time > tables[1].Time && IsTable(e),
            count: 2,
            "two more status tables",
            Timeout);
        Assert.True(fixture.Calls.Of(nameof(IBotGrain.GetStatusAsync), rejected.Uuid) > askedRejected, "the table did not ask the failed bot");
        // (Once at most: should the silo's report be late, the table asks rather than guess. Asking every time fails.)
        Assert.InRange(fixture.Calls.Of(nameof(IBotGrain.GetStatusAsync), running.Uuid) - asked, 0, 1);

        Assert.True(tables[1].Time - tables[0].Time >= CadenceFixture.Interval * 0.8, $"tables {tables[1].Time - tables[0].Time} apart");
        var secrets = fixture.Sensay.Replicas.Select(r => r.TelegramToken).OfType<string>()
            .Concat([ReconciliationClusterFixture.SensayApiKey])
            .ToList();
        var logs = fixture.Logs.Entries;
        Assert.NotEmpty(logs);
        foreach (var secret in secrets)
        {
            // The secret part alone, too: a token cut at its colon must not leak either.
            var secretPart = secret.Contains(':', StringComparison.Ordinal) ? secret[(secret.IndexOf(':', StringComparison.Ordinal) + 1)..] : secret;
            Assert.DoesNotContain(logs, e => e.Text.Contains(secretPart, StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task A_replica_added_upstream_runs_at_the_next_reload_tick_without_being_asked()
    {
        await fixture.Orchestrator.EnsureStartedAsync();
        var replica = ReconciliationClusterFixture.NewReplica();

        fixture.Sensay.AddReplica(replica);

        await fixture.Telegram.WaitForPendingPollAsync(replica.TelegramToken!, Timeout);
        Assert.Contains(replica.Uuid, await fixture.Orchestrator.GetBotIdsAsync());
        var status = await fixture.WaitForStatusAsync(replica.Uuid, BotStatus.Running, Timeout);
        Assert.Equal(replica.Slug, status.ReplicaSlug);
    }

    [Fact]
    public async Task A_failed_reload_changes_nothing_and_the_next_tick_retries_it()
    {
        await fixture.Orchestrator.EnsureStartedAsync();
        var replica = ReconciliationClusterFixture.NewReplica();
        static bool IsFailure(CapturedLog e) => e.Category == typeof(OrchestratorGrain).FullName && e.Text.StartsWith("Reload failed, nothing changed", StringComparison.Ordinal);
        var injected = DateTimeOffset.UtcNow;
        fixture.Sensay.InjectFault(SensayRoute.ReplicaList, new SensayFault { StatusCode = 500, Times = int.MaxValue });

        fixture.Sensay.AddReplica(replica);

        var failures = await fixture.Logs.WaitForAsync(e => e.Time > injected && IsFailure(e), count: 2, "two failed reloads", Timeout);
        Assert.DoesNotContain(replica.Uuid, await fixture.Orchestrator.GetBotIdsAsync());
        fixture.Sensay.ClearFaults();
        await fixture.Telegram.WaitForPendingPollAsync(replica.TelegramToken!, Timeout);
        Assert.Contains(replica.Uuid, await fixture.Orchestrator.GetBotIdsAsync());
        Assert.True(failures[1].Time - failures[0].Time >= CadenceFixture.Interval * 0.5, "the second attempt came before the next tick");
    }
}

/// <summary>A one-silo cluster with the real Sensay source but no <c>SENSAY_API_URL</c>.</summary>
public sealed class UnconfiguredUpstreamFixture : ReconciliationClusterFixture
{
    protected override short SiloCount => 1;

    protected override bool UpstreamConfigured => false;
}

/// <summary>Without <c>SENSAY_API_URL</c> the REST API alone defines the bots.</summary>
public sealed class UnconfiguredUpstreamTests(UnconfiguredUpstreamFixture fixture) : IClassFixture<UnconfiguredUpstreamFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    [Fact]
    public async Task Without_a_Sensay_URL_a_reload_is_not_configured_and_REST_bots_keep_running()
    {
        var bot = ReconciliationClusterFixture.NewDefinition();
        Assert.Equal(CreateBotResult.Created, await fixture.Orchestrator.CreateBotAsync(bot));
        await fixture.Telegram.WaitForPendingPollAsync(bot.Token, Timeout);
        var getMe = fixture.Telegram.CallCount(bot.Token, "getMe");

        var report = await fixture.Orchestrator.ReloadAsync();

        Assert.Equal(ReloadOutcome.NotConfigured, report.Outcome);
        Assert.Contains(bot.ReplicaUuid, await fixture.Orchestrator.GetBotIdsAsync());
        Assert.Empty(fixture.Sensay.Requests);
        await fixture.Telegram.WaitForPendingPollAsync(bot.Token, Timeout);
        Assert.Equal(getMe, fixture.Telegram.CallCount(bot.Token, "getMe"));
        Assert.Equal(BotStatus.Running, (await fixture.WaitForStatusAsync(bot.ReplicaUuid, BotStatus.Running, Timeout)).Status);
    }

    [Fact]
    public async Task An_orchestrator_whose_write_meets_another_activations_fails_the_call_and_gives_way()
    {
        var before = ReconciliationClusterFixture.NewDefinition();
        Assert.Equal(CreateBotResult.Created, await fixture.Orchestrator.CreateBotAsync(before));

        // What a duplicate activation does while membership changes: it writes the desired set behind this one's back.
        var storage = fixture.Cluster.Silos[0].ServiceProvider.GetRequiredKeyedService<IGrainStorage>(StorageNames.Orchestrator);
        var grainId = fixture.Orchestrator.GetGrainId();
        var stored = new GrainState<DesiredSetState>(new DesiredSetState());
        await storage.ReadStateAsync(StateNames.DesiredSet, grainId, stored);
        Assert.NotNull(stored.State);
        var theirs = ReconciliationClusterFixture.NewDefinition();
        stored.State.Bots[theirs.ReplicaUuid] = theirs;
        await storage.WriteStateAsync(StateNames.DesiredSet, grainId, stored);

        var mine = ReconciliationClusterFixture.NewDefinition();
        await Assert.ThrowsAsync<InconsistentStateException>(() => fixture.Orchestrator.CreateBotAsync(mine));

        // Orleans deactivates an activation whose call threw InconsistentStateException, so the retry the API asks for
        // (503) reaches a fresh activation that read the stored set: nothing the other activation wrote is lost.
        Assert.Equal(CreateBotResult.Created, await fixture.Orchestrator.CreateBotAsync(mine));
        var ids = await fixture.Orchestrator.GetBotIdsAsync();
        Assert.Contains(before.ReplicaUuid, ids);
        Assert.Contains(theirs.ReplicaUuid, ids);
        Assert.Contains(mine.ReplicaUuid, ids);
    }
}

using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orchestrator.Abstractions;
using Orchestrator.Fakes.Sensay;
using Orchestrator.Grains.Orchestration;
using Orchestrator.Sensay;
using Orchestrator.Tests.Infrastructure;

namespace Orchestrator.Tests.Grains;

/// <summary>
/// A two-silo in-process Orleans cluster running the real grains, with the real Telegram.Bot client talking to the
/// Telegram emulator and the real Sensay client talking to the fake Sensay, both over loopback. Shared by a collection;
/// every test uses fresh tokens and replicaUUIDs.
/// </summary>
public sealed class ClusterFixture : BotClusterFixture
{
    /// <summary>The Sensay API key the fake expects.</summary>
    public const string SensayApiKey = "test-sensay-key";

    private static readonly ConcurrentBag<string> s_issuedTokens = [];
    private static int s_nextBotId = 100_000;

    private readonly BotCallCounter _calls = new();

    /// <summary>Every bot token this fixture handed out, to prove none of them reaches a log.</summary>
    public static IReadOnlyCollection<string> IssuedTokens => s_issuedTokens;

    /// <inheritdoc />
    protected override string ApiKey => SensayApiKey;

    /// <summary>
    /// A fresh bot definition with a unique, well-formed token. Its replica exists in the fake Sensay (so completions
    /// work) without a Telegram integration (so a reload would not pick it up).
    /// </summary>
    public BotDefinition NewBot(string? slug = null) => NewBot(Sensay, slug);

    /// <summary><see cref="NewBot(string?)"/> for another fixture's fake Sensay.</summary>
    public static BotDefinition NewBot(FakeSensayApi sensay, string? slug = null)
    {
        var bot = NewDefinition(slug);
        sensay.AddReplica(new FakeReplica(bot.ReplicaUuid, bot.ReplicaSlug, TelegramToken: null, bot.OwnerUuid, HasTelegramIntegration: false));
        return bot;
    }

    /// <summary>A fresh bot definition, unknown to the fake Sensay.</summary>
    public static BotDefinition NewDefinition(string? slug = null)
    {
        var id = Interlocked.Increment(ref s_nextBotId);
        var token = $"{id}:SECRET{Guid.NewGuid():N}";
        s_issuedTokens.Add(token);
        return new BotDefinition($"replica-{id}-{Guid.NewGuid():N}", slug ?? $"slug-{id}", $"owner-{id}", token);
    }

    /// <summary>How many times the health sweep (or anyone) called the bot's <c>CheckHealthAsync</c>, on any silo.</summary>
    public int HealthChecksOf(string replicaUuid) => _calls.Of(nameof(IBotGrain.CheckHealthAsync), replicaUuid);

    /// <summary>Waits until the orchestrator has started <paramref name="count"/> more health sweeps.</summary>
    public async Task WaitForHealthSweepsAsync(int count, TimeSpan timeout)
    {
        static bool IsSweep(CapturedLog entry) => entry.Text.StartsWith("Health sweep:", StringComparison.Ordinal);
        var sweeps = Logs.Entries.Count(IsSweep);
        await Logs.WaitForAsync(IsSweep, sweeps + count, $"{count} more health sweeps", timeout);
    }

    /// <summary>
    /// These tests define bots directly (reconciliation with Sensay has its own fixtures); every silo counts the
    /// calls its bots receive.
    /// </summary>
    protected override void ConfigureServices(IServiceCollection services)
    {
        services.AddSingleton<IBotDefinitionSource>(new NoUpstream());
        services.AddSingleton<IIncomingGrainCallFilter>(_calls);
    }

    /// <summary>Everything at Debug and above; our code and HTTP clients at Trace (for the secrets test).</summary>
    protected override void ConfigureLogCapture(LoggerFilterOptions filters)
    {
        filters.AddFilter<CapturingLoggerProvider>(null, LogLevel.Debug);
        filters.AddFilter<CapturingLoggerProvider>("Orchestrator", LogLevel.Trace);
        filters.AddFilter<CapturingLoggerProvider>("System.Net.Http", LogLevel.Trace);
    }

    /// <summary>Short enough for the timeout test, long enough for the tests that hold a completion a few seconds.</summary>
    protected override void Configure(SensayOptions options)
    {
        base.Configure(options);
        options.RequestTimeout = TimeSpan.FromSeconds(10);
    }
}

/// <summary>No upstream: the grains' callers alone define the bots.</summary>
internal sealed class NoUpstream : IBotDefinitionSource
{
    public bool IsConfigured => false;

    public Task<IReadOnlyList<BotDefinition>> LoadAsync(CancellationToken cancellationToken) => throw new NotSupportedException();
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}

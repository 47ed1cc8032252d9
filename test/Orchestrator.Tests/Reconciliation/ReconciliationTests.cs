using Orchestrator.Abstractions;
using Orchestrator.Fakes.Sensay;
using Orchestrator.Fakes.Telegram;

namespace Orchestrator.Tests.Reconciliation;

/// <summary>What the tests on the shared reconciliation cluster have in common: each starts from an empty desired set.</summary>
public abstract class ReconciliationTests(ReconciliationFixture fixture) : IAsyncLifetime
{
    protected static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    protected ReconciliationFixture Fixture => fixture;

    protected TelegramEmulator Telegram => fixture.Telegram;

    protected FakeSensayApi Sensay => fixture.Sensay;

    protected IOrchestratorGrain Orchestrator => fixture.Orchestrator;

    public async ValueTask InitializeAsync() => await fixture.ResetAsync();

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Abstractions;
using Orchestrator.Fakes.Sensay;
using Orchestrator.Grains;
using Orchestrator.Grains.Bots;
using Orchestrator.Grains.Orchestration;
using Orchestrator.Sensay;
using Orchestrator.Telegram;
using Orleans.TestingHost;

namespace Orchestrator.Tests.Reconciliation;

/// <summary>
/// Reload time for large fleets against the fake Sensay (opt-in: <c>ORCHESTRATOR_RELOAD_BENCH=1</c>). The bots point
/// at a loopback port nobody listens on, so they only retry with backoff: what is measured is the reload (loading the
/// pages, the diff, and the apply calls to the bot grains), not Telegram.
/// </summary>
[Trait("Category", "Benchmark")]
public sealed class ReloadBenchmark
{
    private const string ApiKey = "bench-sensay-key";

    [Theory]
    [InlineData(1_000)]
    [InlineData(10_000)]
    public async Task Reload_time_for_a_large_fleet(int count)
    {
        if (Environment.GetEnvironmentVariable("ORCHESTRATOR_RELOAD_BENCH") != "1")
        {
            Assert.Skip("Benchmark: set ORCHESTRATOR_RELOAD_BENCH=1 to run it.");
        }

        await using var sensay = await FakeSensayApi.StartAsync(new FakeSensayOptions { ApiKey = ApiKey });
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(StorageNames.Bots);
            silo.AddMemoryGrainStorage(StorageNames.Orchestrator);
            silo.UseInMemoryReminderService();
            silo.Services.AddBotRuntime();
            silo.Services.Configure<TelegramClientOptions>(o => o.BaseUrl = $"http://127.0.0.1:{UnusedPort()}");
            silo.Services.Configure<SensayOptions>(o =>
            {
                o.BaseUrl = sensay.BaseUrl;
                o.ApiKey = ApiKey;
            });
            silo.Services.Configure<BotOptions>(o => o.HealthCheckInterval = TimeSpan.FromMinutes(10));
            silo.Services.Configure<OrchestratorOptions>(o =>
            {
                o.ReloadInterval = TimeSpan.FromHours(1);
                o.PrintStatusInterval = TimeSpan.FromHours(1);
            });
        });
        await using var cluster = builder.Build();
        await cluster.DeployAsync();
        var orchestrator = cluster.Client.GetGrain<IOrchestratorGrain>(GrainKeys.Orchestrator);
        await orchestrator.EnsureStartedAsync();
        // Waits for the start-up reload (of an empty list) so it cannot pick up the fleet first.
        await orchestrator.ReloadAsync();

        var replicas = Enumerable.Range(0, count).Select(i => new FakeReplica($"bench-{i:D6}", $"bench-slug-{i}", $"{1_000_000 + i}:BENCH{Guid.NewGuid():N}")).ToList();
        sensay.SetReplicas(replicas);
        var initial = await MeasureAsync(orchestrator);
        Assert.Equal(count, initial.Report.Added);
        var unchanged = await MeasureAsync(orchestrator);
        Assert.Equal((0, 0, 0), (unchanged.Report.Added, unchanged.Report.Changed, unchanged.Report.Removed));
        for (var i = 0; i < count; i += 10)
        {
            var uuid = replicas[i].Uuid;
            sensay.UpdateReplica(uuid, r => r with { TelegramToken = $"{2_000_000 + i}:BENCH{Guid.NewGuid():N}" });
        }

        var changed = await MeasureAsync(orchestrator);
        Assert.Equal(count / 10, changed.Report.Changed);

        var line = $"reload of {count} replicas ({count / 100} pages): initial (all added) {initial.Wall.TotalMilliseconds:0} ms; "
            + $"no change {unchanged.Wall.TotalMilliseconds:0} ms; 10 % tokens changed {changed.Wall.TotalMilliseconds:0} ms "
            + $"(grain-reported {initial.Report.Duration.TotalMilliseconds:0} / {unchanged.Report.Duration.TotalMilliseconds:0} / {changed.Report.Duration.TotalMilliseconds:0} ms)";
        TestContext.Current.SendDiagnosticMessage(line);
        Console.WriteLine(line);
        if (Environment.GetEnvironmentVariable("ORCHESTRATOR_RELOAD_BENCH_OUT") is { Length: > 0 } path)
        {
            await File.AppendAllTextAsync(path, line + Environment.NewLine, TestContext.Current.CancellationToken);
        }
    }

    private static async Task<(ReloadReport Report, TimeSpan Wall)> MeasureAsync(IOrchestratorGrain orchestrator)
    {
        var watch = Stopwatch.StartNew();
        var report = await orchestrator.ReloadAsync();
        watch.Stop();
        Assert.Equal(ReloadOutcome.Applied, report.Outcome);
        return (report, watch.Elapsed);
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

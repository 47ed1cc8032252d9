using System.Text.Json.Nodes;
using Orchestrator.Benchmarks;

namespace Orchestrator.Host.Tests;

/// <summary>The benchmark is not part of the suite; this only checks it runs end to end at a tiny size and writes its results.</summary>
public sealed class BenchmarkSmokeTests
{
    [Fact]
    public async Task The_benchmark_runs_at_a_tiny_size_over_TLS_and_HTTP2_and_writes_json_and_markdown_results()
    {
        var output = Directory.CreateTempSubdirectory("bench-smoke-");
        try
        {
            var options = BenchOptions.Parse(
            [
                "--scenario", "density,startup,throughput,reload",
                "--sizes", "5",
                "--transports", "tls-h2",
                "--cpu-window", "1",
                "--settle", "0.5",
                "--poll-timeout", "1",
                "--messages", "10",
                "--rate", "20",
                "--rate-seconds", "0.5",
                "--upstream-ms", "0",
                "--wait-limit", "60",
                "--out", output.FullName,
            ]);
            using var log = new StringWriter();
            var (json, markdown) = await new BenchmarkRunner(options, log).RunAsync(TestContext.Current.CancellationToken)
                .WaitAsync(TimeSpan.FromSeconds(150), TestContext.Current.CancellationToken);

            var results = JsonNode.Parse(await File.ReadAllTextAsync(json, TestContext.Current.CancellationToken))!;
            Assert.True(results["machine"]!["cores"]!.GetValue<int>() > 0);
            var figures = results["figures"]!.AsArray().Select(f => (Name: f!["name"]!.GetValue<string>(), Value: f["value"]?.GetValue<double>())).ToList();
            foreach (var expected in new[] { "all polling after process start", "all polling after a reload", "host CPU time after process start", "host paused for collections after a reload", "host allocations after process start", "fakes' CPU time after a reload", "RSS per bot", "idle CPU", "managed heap per bot", "replies/s (burst", "added p99 (20 msg/s", "bots long-polling again after the load", "host collections, all generations", "no change", "10 % changed" })
            {
                Assert.True(figures.Exists(f => f.Name.Contains(expected, StringComparison.Ordinal) && f.Value is not null), $"no measured figure \"{expected}\" in {json}; log:\n{log}");
            }

            var run = results["runs"]![0]!;
            Assert.Equal("tls-h2", run["transport"]!.GetValue<string>());

            // A start's cost comes from the host's runtime counters: it took CPU time and allocated.
            Assert.True(run["startupFromProcessStartMilestones"]!["hostCpuSeconds"]!.GetValue<double>() > 0);
            Assert.True(run["startupFromProcessStartMilestones"]!["hostAllocatedMiB"]!.GetValue<double>() > 0);
            Assert.Equal(10, run["throughput"]![0]!["replied"]!.GetValue<int>());

            // The fakes held their collections through the load (a no-GC region), and none happened.
            Assert.True(run["throughput"]![0]!["emulatorCollectionsHeld"]!.GetValue<bool>());
            Assert.Equal(0, run["throughput"]![0]!["emulatorCollections"]!.GetValue<int>());
            Assert.Contains("| startup | all polling after process start |", await File.ReadAllTextAsync(markdown, TestContext.Current.CancellationToken), StringComparison.Ordinal);
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }
}

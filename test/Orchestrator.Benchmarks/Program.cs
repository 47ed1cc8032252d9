using Orchestrator.Benchmarks;

// The benchmark of issue 7: `dotnet run -c Release --project test/Orchestrator.Benchmarks -- --scenario all --sizes 1000,10000,20000`.
if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(BenchOptions.Usage);
    return 0;
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

try
{
    var (json, markdown) = await new BenchmarkRunner(options, Console.Out).RunAsync(stop.Token);
    Console.WriteLine();
    Console.WriteLine(await File.ReadAllTextAsync(markdown));
    Console.WriteLine($"Results: {json}");
    Console.WriteLine($"         {markdown}");
    return 0;
}
catch (Exception ex) when (ex is InvalidOperationException or TimeoutException or FileNotFoundException or PlatformNotSupportedException or HttpRequestException or OperationCanceledException)
{
    Console.Error.WriteLine($"Benchmark failed: {ex.Message}");
    return 1;
}

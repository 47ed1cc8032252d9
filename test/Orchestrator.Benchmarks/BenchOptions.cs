using System.Globalization;

namespace Orchestrator.Benchmarks;

/// <summary>The command line of the benchmark. Every option has a default that reproduces the setup.</summary>
public sealed record BenchOptions
{
    /// <summary>Scenarios: density, startup, throughput, reload, failover (or all). Density and startup always run together: they share the host.</summary>
    public IReadOnlySet<string> Scenarios { get; init; } = new HashSet<string>(AllScenarios, StringComparer.Ordinal);

    public static readonly string[] AllScenarios = ["density", "startup", "throughput", "reload", "failover"];

    public static readonly string[] AllTransports = ["tls-h1", "tls-h2", "http"];

    /// <summary>Bot counts, in order.</summary>
    public IReadOnlyList<int> Sizes { get; init; } = [1000, 10_000, 20_000];

    /// <summary>tls-h1 (TLS + HTTP/1.1), tls-h2 (TLS + HTTP/2), http (plain HTTP/1.1).</summary>
    public IReadOnlyList<string> Transports { get; init; } = AllTransports;

    /// <summary>Idle CPU window (default 60 s).</summary>
    public TimeSpan CpuWindow { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Wait after all bots poll, on top of one long-poll cycle, before sampling steady state (default 10 s).</summary>
    public TimeSpan Settle { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>TELEGRAM_POLL_TIMEOUT_S of the host (default 50, production).</summary>
    public int PollTimeoutSeconds { get; init; } = 50;

    /// <summary>BOT_START_RATE of the host (default null: the service's default).</summary>
    public int? StartRate { get; init; }

    /// <summary>BOT_FIRST_POLL_JITTER_MS of the host (default null: the service's default).</summary>
    public int? JitterMs { get; init; }

    /// <summary>Server or Workstation GC for the host (DOTNET_gcServer); default null: the service's (Server).</summary>
    public bool? ServerGc { get; init; }

    /// <summary>Messages of a burst run; 0 (default): twice the bots, between 500 and 20,000.</summary>
    public int BurstMessages { get; init; }

    /// <summary>Rate of the fixed-rate latency runs (default 500 messages/s).</summary>
    public double FixedRate { get; init; } = 500;

    /// <summary>
    /// Length of each fixed-rate run (default 60 s). The tail at 500 msg/s is the host's gen 0 pauses, one every ~6 s:
    /// a 20 s run holds three, and its p99 depended on where they fell (5 to 41 ms in four runs of one build).
    /// </summary>
    public TimeSpan FixedRateDuration { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Upstream delays of the throughput runs (default 0 and 200 ms).</summary>
    public IReadOnlyList<int> UpstreamDelaysMs { get; init; } = [0, 200];

    /// <summary>
    /// Hold the fakes' garbage collections during each load run (default true): they stand in for Telegram and Sensay,
    /// which do not pause for their clients, and share the host's cores. The run's summary counts any that still happen.
    /// </summary>
    public bool HoldEmulatorCollections { get; init; } = true;

    /// <summary>Kills in the failover scenario (default 5).</summary>
    public int Kills { get; init; } = 5;

    /// <summary>How long any single wait may take before the figure is reported as missed (default 300 s).</summary>
    public TimeSpan WaitLimit { get; init; } = TimeSpan.FromSeconds(300);

    /// <summary>Results folder (default bench-results/ at the repository root).</summary>
    public string? OutDirectory { get; init; }

    /// <summary>Extra environment variables for the host processes (--env KEY=VALUE, repeatable).</summary>
    public IReadOnlyDictionary<string, string> HostEnvironment { get; init; } = new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>The build configuration whose outputs are run (default: the benchmark's own).</summary>
    public string? Configuration { get; init; }

    public static string Usage => """
        Usage: dotnet run -c Release --project test/Orchestrator.Benchmarks -- [options]
          --scenario all|density,startup,throughput,reload,failover   (default all)
          --sizes 1000,10000,20000          bot counts
          --transports tls-h1,tls-h2,http   TLS + HTTP/1.1, TLS + HTTP/2, plain HTTP/1.1
          --cpu-window 60                   idle CPU window, seconds
          --settle 10                       steady state: one poll timeout plus this after all bots poll, seconds
          --poll-timeout 50                 TELEGRAM_POLL_TIMEOUT_S
          --start-rate N                    BOT_START_RATE (bots/s per silo, 0 = unpaced; default: the service's)
          --jitter-ms N                     BOT_FIRST_POLL_JITTER_MS (default: the service's)
          --gc server|workstation           host GC flavour (default: the service's, server)
          --messages 0                      burst size (0: 2 x bots, 500..20000)
          --rate 500 --rate-seconds 60      fixed-rate latency runs
          --upstream-ms 0,200               fake Sensay completion delays
          --emulator-gc hold|collect        hold the fakes' collections during load runs (default hold)
          --kills 5                         failover kills (needs redis-server on PATH)
          --wait-limit 300                  longest single wait, seconds
          --env KEY=VALUE                   extra host environment (repeatable)
          --configuration Release           which build outputs to run
          --out DIR                         results folder (default bench-results/)
        """;

    /// <summary>Parses the command line; throws <see cref="ArgumentException"/> with a one-line message.</summary>
    public static BenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new BenchOptions();
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i++)
        {
            var name = args[i];
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            options = name switch
            {
                "--scenario" or "--scenarios" => options with { Scenarios = ParseScenarios(Value()) },
                "--sizes" => options with { Sizes = Ints(Value(), name, 0) },
                "--transports" => options with { Transports = ParseTransports(Value()) },
                "--cpu-window" => options with { CpuWindow = Seconds(Value(), name) },
                "--settle" => options with { Settle = Seconds(Value(), name) },
                "--poll-timeout" => options with { PollTimeoutSeconds = Int(Value(), name, 1, 50) },
                "--start-rate" => options with { StartRate = Int(Value(), name, 0, 100_000) },
                "--jitter-ms" => options with { JitterMs = Int(Value(), name, 0, 300_000) },
                "--gc" => options with { ServerGc = Value() switch { "server" => true, "workstation" => false, var v => throw new ArgumentException($"--gc must be workstation or server (got \"{v}\").") } },
                "--messages" => options with { BurstMessages = Int(Value(), name, 0, 1_000_000) },
                "--rate" => options with { FixedRate = Int(Value(), name, 1, 100_000) },
                "--rate-seconds" => options with { FixedRateDuration = Seconds(Value(), name) },
                "--upstream-ms" => options with { UpstreamDelaysMs = Ints(Value(), name, 0) },
                "--emulator-gc" => options with { HoldEmulatorCollections = Value() switch { "hold" => true, "collect" => false, var v => throw new ArgumentException($"--emulator-gc must be hold or collect (got \"{v}\").") } },
                "--kills" => options with { Kills = Int(Value(), name, 1, 100) },
                "--wait-limit" => options with { WaitLimit = Seconds(Value(), name) },
                "--configuration" or "-c" => options with { Configuration = Value() },
                "--out" => options with { OutDirectory = Value() },
                "--env" => AddEnv(options, env, Value()),
                _ => throw new ArgumentException($"Unknown option \"{name}\".\n{Usage}"),
            };
        }

        return options with { HostEnvironment = env };
    }

    private static BenchOptions AddEnv(BenchOptions options, Dictionary<string, string> env, string value)
    {
        var eq = value.IndexOf('=', StringComparison.Ordinal);
        if (eq <= 0)
        {
            throw new ArgumentException($"--env needs KEY=VALUE (got \"{value}\").");
        }

        env[value[..eq]] = value[(eq + 1)..];
        return options;
    }

    private static HashSet<string> ParseScenarios(string value)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (item == "all")
            {
                set.UnionWith(AllScenarios);
            }
            else if (AllScenarios.Contains(item))
            {
                set.Add(item);
            }
            else
            {
                throw new ArgumentException($"--scenario: unknown scenario \"{item}\" (use {string.Join(", ", AllScenarios)} or all).");
            }
        }

        return set;
    }

    private static string[] ParseTransports(string value)
    {
        var list = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var item in list)
        {
            if (!AllTransports.Contains(item))
            {
                throw new ArgumentException($"--transports: unknown transport \"{item}\" (use {string.Join(", ", AllTransports)}).");
            }
        }

        return list;
    }

    private static int Int(string value, string name, int min, int max) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n) && n >= min && n <= max
            ? n
            : throw new ArgumentException($"{name} must be a whole number from {min} to {max} (got \"{value}\").");

    private static int[] Ints(string value, string name, int min) =>
        [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(v => Int(v, name, min, 1_000_000))];

    private static TimeSpan Seconds(string value, string name) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s >= 0 && s <= 86_400
            ? TimeSpan.FromSeconds(s)
            : throw new ArgumentException($"{name} must be a number of seconds (got \"{value}\").");
}

using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Orchestrator.Benchmarks;

/// <summary>
/// Runs the scenarios of issue 7 against real processes: the fakes (<c>Orchestrator.Fakes --bench</c>: Telegram
/// emulator over HTTPS and HTTP, fake Sensay, control API) and one or two hosts, configured only through their
/// environment variables, with bots created the production way (Sensay's replica list, then a reload).
/// </summary>
public sealed class BenchmarkRunner(BenchOptions options, TextWriter log)
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// The emulator stands in for Telegram, which does not pause: its own collections must not show up as the service's
    /// latency. Workstation GC with the default gen 0 budget (80 MiB here) stopped it for 110-150 ms every few seconds
    /// at 500 msg/s; with an 8 MiB gen 0 its pauses are 10-30 ms, twice a second. Load runs hold its collections
    /// altogether (<see cref="BenchOptions.HoldEmulatorCollections"/>); the small gen 0 keeps the rest of a run, starts
    /// and reloads, free of long pauses (docs/benchmarks.md).
    /// </summary>
    private static readonly Dictionary<string, string?> FakesEnvironment = new()
    {
        ["DOTNET_gcServer"] = "0",
        ["DOTNET_GCgen0size"] = "0x800000",
        // Each method compiled once, optimized, at its first call: with tiering the fakes were still recompiling
        // their hot paths in the background through the first starts (perf: the JIT took 47 % of their CPU while a
        // host started 10,000 bots), taking a core's worth from the service being measured.
        ["DOTNET_TieredCompilation"] = "0",
    };

    private readonly HttpClient _http = new() { Timeout = TimeSpan.FromMinutes(10) };
    private readonly List<Figure> _figures = [];
    private readonly JsonArray _runs = [];
    private readonly string _authToken = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
    private string _outDirectory = string.Empty;
    private string _stamp = string.Empty;
    private FakesEndpoints _fakes = null!;
    private int _fakesPid;

    /// <summary>Runs everything selected; returns the paths of the JSON and Markdown results.</summary>
    public async Task<(string Json, string Markdown)> RunAsync(CancellationToken cancellationToken)
    {
        if (!OperatingSystem.IsLinux())
        {
            throw new PlatformNotSupportedException("The benchmark reads /proc: run it on Linux.");
        }

        var root = RepoRoot();
        var configuration = options.Configuration ?? new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent!.Name;
        var hostDll = Output(root, "src/Orchestrator.Host", configuration, "Orchestrator.Host.dll");
        var fakesDll = Output(root, "test/Orchestrator.Fakes", configuration, "Orchestrator.Fakes.dll");
        _stamp = DateTime.UtcNow.ToString("yyyyMMdd-HHmmss", CultureInfo.InvariantCulture);
        _outDirectory = Path.GetFullPath(options.OutDirectory ?? Path.Combine(root, "bench-results"));
        var logs = Path.Combine(_outDirectory, $"logs-{_stamp}");
        Directory.CreateDirectory(logs);
        var started = DateTimeOffset.UtcNow;
        Say($"Results and child logs go to {_outDirectory}; running {configuration} builds.");

        using var fakes = ChildProcess.Start(
            "dotnet",
            [fakesDll, "--bench", "--telegram-https-port", "0", "--cert-out", Path.Combine(logs, "emulator.crt")],
            FakesEnvironment,
            Path.Combine(logs, "fakes.log"));
        var ready = await fakes.WaitForLineAsync("FAKES_READY ", TimeSpan.FromSeconds(120));
        _fakes = FakesEndpoints.Parse(ready["FAKES_READY ".Length..]);
        _fakesPid = fakes.Pid;
        Say($"Fakes up (pid {fakes.Pid}): Telegram {_fakes.TelegramHttp} and {_fakes.TelegramHttps}, control {_fakes.Control}.");

        // Startup is measured on every single-silo run; only --scenario failover alone skips them.
        var singleSilo = options.Scenarios.Any(s => s != "failover");
        foreach (var transport in singleSilo ? options.Transports : [])
        {
            foreach (var size in options.Sizes)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (size == 0)
                {
                    continue;
                }

                await RunSingleSiloAsync(hostDll, logs, transport, size, cancellationToken);
            }
        }

        if (options.Scenarios.Contains("failover"))
        {
            await RunFailoverAsync(hostDll, logs, cancellationToken);
        }

        var results = new BenchResults(Machine(root), started, DateTimeOffset.UtcNow, Settings(configuration), _figures, _runs);
        return results.Write(_outDirectory, _stamp);
    }

    // ------------------------------------------------------------------ one silo

    /// <summary>From all bots polling to steady state: one long-poll cycle plus the settle time.</summary>
    private TimeSpan SteadyStateDelay => TimeSpan.FromSeconds(options.PollTimeoutSeconds) + options.Settle;

    private async Task RunSingleSiloAsync(string hostDll, string logs, string transport, int size, CancellationToken cancellationToken)
    {
        var label = $"{transport} / {size.ToString("N0", CultureInfo.InvariantCulture)} bots";
        var run = new JsonObject { ["transport"] = transport, ["bots"] = size };
        _runs.Add(run);
        Say($"== {label}");

        // 0 bots: the baseline.
        await SetReplicasAsync(0);
        await WaitForPendingAsync(0, exactly: true, TimeSpan.FromSeconds(60));
        var host = await StartHostAsync(hostDll, logs, transport, $"{transport}-{size}-a", cluster: null);
        try
        {
            await Task.Delay(options.Settle, cancellationToken);
            var baseline = ProcSample.Read(host.Process.Pid);
            var baselineHeap = await RuntimeAsync(host, gc: true);
            run["baseline"] = new JsonObject { ["rssKiB"] = baseline.RssKiB, ["threads"] = baseline.Threads, ["managedHeapBytes"] = baselineHeap?["managedHeapBytes"]?.DeepClone() };
            Say($"   baseline: RSS {baseline.RssKiB / 1024.0:0.0} MiB, {baseline.Threads} threads");

            // Startup from a reload: N replicas appear upstream, the host reloads, all bots poll.
            await SetReplicasAsync(size);
            var getMeBefore = await CallCountAsync("getMe");
            var beforeReload = await RuntimeAsync(host, gc: false);
            var fakesBeforeReload = ProcSample.Read(_fakesPid);
            var reloadStarted = Stopwatch.GetTimestamp();
            var reload = ReloadAsync(host); // bots start while the reload still applies the later pages
            var reloadMilestones = new JsonObject();
            var fromReload = await WaitForPendingAsync(size, exactly: false, options.WaitLimit, reloadStarted, reloadMilestones);
            AddStartCost(label, "after a reload", reloadMilestones, beforeReload, await RuntimeAsync(host, gc: false), fakesBeforeReload);
            var report = await reload;
            run["startupFromReloadSeconds"] = fromReload;
            run["startupFromReloadMilestones"] = reloadMilestones;
            run["startupReload"] = report;
            Add(label, "startup", "all polling after a reload", fromReload, "s", 10, Goal.AtMost);
            AddMilestones(label, "after a reload", reloadMilestones);
            Add(label, "startup", "getMe calls beyond one per bot (retries) after the reload", await CallCountAsync("getMe") - getMeBefore - size, "calls");
        }
        finally
        {
            host.Dispose();
        }

        // Startup from process start, then steady state, throughput and reload on that process.
        await WaitForPendingAsync(0, exactly: true, TimeSpan.FromSeconds(120));
        var getMeAtStart = await CallCountAsync("getMe");
        // Counted from the launch on, not from the host's first answer to /ready: that can come late while its bots start.
        var startMilestones = new JsonObject();
        var fakesBeforeStart = ProcSample.Read(_fakesPid);
        var polling = WaitForPendingAsync(size, exactly: false, options.WaitLimit, Stopwatch.GetTimestamp(), startMilestones);
        host = await StartHostAsync(hostDll, logs, transport, $"{transport}-{size}-b", cluster: null);
        try
        {
            var fromStart = await polling;
            AddStartCost(label, "after process start", startMilestones, since: null, await RuntimeAsync(host, gc: false), fakesBeforeStart);
            run["startupFromProcessStartSeconds"] = fromStart;
            run["startupFromProcessStartMilestones"] = startMilestones;
            Add(label, "startup", "all polling after process start", fromStart, "s", 10, Goal.AtMost);
            AddMilestones(label, "after process start", startMilestones);
            Add(label, "startup", "getMe calls beyond one per bot (retries) after process start", await CallCountAsync("getMe") - getMeAtStart - size, "calls");

            // Steady state: every bot's first long poll has been answered and renewed (one poll timeout), and the
            // settle time on top. Earlier, the window would hold the first cycle's JIT and tiering instead.
            await Task.Delay(SteadyStateDelay, cancellationToken);
            var steady = ProcSample.Read(host.Process.Pid);
            var baselineRss = run["baseline"]!["rssKiB"]!.GetValue<long>();
            var rssPerBot = (steady.RssKiB - baselineRss) / (double)size;
            run["steady"] = new JsonObject { ["rssKiB"] = steady.RssKiB, ["threads"] = steady.Threads, ["rssPerBotKiB"] = rssPerBot };
            Add(label, "density", "RSS per bot (0-bot baseline subtracted)", rssPerBot, "KiB", transport.StartsWith("tls", StringComparison.Ordinal) && size >= 20_000 ? 40 : 50, Goal.AtMost);
            Add(label, "density", "RSS", steady.RssKiB / 1024.0, "MiB");
            Add(label, "density", "threads", steady.Threads, "threads");

            if (options.Scenarios.Contains("density"))
            {
                Say($"   idle CPU over {options.CpuWindow.TotalSeconds:0} s ...");
                var from = ProcSample.Read(host.Process.Pid);
                await Task.Delay(options.CpuWindow, cancellationToken);
                var to = ProcSample.Read(host.Process.Pid);
                var cpu = ProcSample.CpuPercent(from, to);
                run["idleCpuPercent"] = cpu;
                run["idleCpuWindowSeconds"] = options.CpuWindow.TotalSeconds;
                Add(label, "density", $"idle CPU over {options.CpuWindow.TotalSeconds:0} s (one core = 100 %)", cpu, "%", 5, Goal.AtMost);
                Add(label, "density", "threads at the end of the window", to.Threads, "threads");
            }

            var runtime = await RuntimeAsync(host, gc: true);
            if (runtime is not null && run["baseline"]!["managedHeapBytes"] is { } baseHeap)
            {
                var heapPerBot = (runtime["managedHeapBytes"]!.GetValue<long>() - baseHeap.GetValue<long>()) / 1024.0 / size;
                run["runtime"] = runtime;
                run["steady"]!["managedHeapPerBotKiB"] = heapPerBot;
                Add(label, "density", "managed heap per bot (live, after a full GC)", heapPerBot, "KiB");
            }

            if (options.Scenarios.Contains("throughput"))
            {
                await RunThroughputAsync(label, run, host, size);
            }

            if (options.Scenarios.Contains("reload"))
            {
                await RunReloadAsync(label, run, host, size);
            }
        }
        finally
        {
            host.Dispose();
        }
    }

    private async Task RunThroughputAsync(string label, JsonObject run, HostProcess host, int size)
    {
        var loads = new JsonArray();
        run["throughput"] = loads;
        var burst = options.BurstMessages > 0 ? options.BurstMessages : Math.Clamp(size * 2, 500, 20_000);
        var fixedCount = (int)Math.Max(1, Math.Round(options.FixedRate * options.FixedRateDuration.TotalSeconds));
        foreach (var upstream in options.UpstreamDelaysMs)
        {
            foreach (var (count, rate) in new[] { (burst, 0.0), (fixedCount, options.FixedRate) })
            {
                await WaitForPendingAsync(size, exactly: false, TimeSpan.FromSeconds(60));
                var kind = rate > 0 ? $"{rate:0} msg/s" : "burst";
                Say($"   load: {count} messages, {kind}, upstream {upstream} ms ...");
                var (hostBefore, fakesBefore) = (ProcSample.Read(host.Process.Pid), ProcSample.Read(_fakesPid));
                var runtimeBefore = await RuntimeAsync(host, gc: false);
                var summary = await LoadAsync(count, rate, upstream);
                var runtimeAfter = await RuntimeAsync(host, gc: false);
                var replied = summary["replied"]!.GetValue<int>();

                // CPU per reply, the service's and the fakes': both run on the same cores, so what the fakes take is
                // not the service's to use.
                var hostCpuMsPerReply = ProcSample.CpuSeconds(hostBefore, ProcSample.Read(host.Process.Pid)) * 1000 / Math.Max(1, replied);
                var fakesCpuMsPerReply = ProcSample.CpuSeconds(fakesBefore, ProcSample.Read(_fakesPid)) * 1000 / Math.Max(1, replied);
                summary["hostCpuMsPerReply"] = hostCpuMsPerReply;
                summary["fakesCpuMsPerReply"] = fakesCpuMsPerReply;
                summary["upstreamMs"] = upstream;
                loads.Add(summary);
                var name = $"{kind}, upstream {upstream} ms";
                Say($"   {replied} replies; Bot API calls per reply: {summary["botApiCallsPerReply"]!.ToJsonString()}");
                Add(label, "throughput", $"replies/s ({name}; {replied}/{count} answered)", summary["repliesPerSecond"]!.GetValue<double>(), "/s", rate > 0 ? null : 2000, Goal.AtLeast);
                Add(label, "throughput", $"fakes' collections during the load ({name})", summary["emulatorCollections"]!.GetValue<int>(), "collections");
                Add(label, "throughput", $"host CPU time per reply ({name})", hostCpuMsPerReply, "ms");
                Add(label, "throughput", $"fakes' CPU time per reply ({name})", fakesCpuMsPerReply, "ms");
                AddCollections(label, name, summary, runtimeBefore, runtimeAfter);
                if (summary["addedMs"] is JsonObject added)
                {
                    double? target = rate > 0 && Math.Abs(rate - 500) < 0.5 ? 20 : null;
                    Add(label, "latency", $"added p50 ({name})", added["p50"]!.GetValue<double>(), "ms");
                    Add(label, "latency", $"added p99 ({name})", added["p99"]!.GetValue<double>(), "ms", target, Goal.AtMost);
                    Add(label, "latency", $"added max ({name})", added["max"]!.GetValue<double>(), "ms");
                }

                // Every bot must be back in a long poll after the load: one that stopped polling answers nobody.
                summary["allPollingAgainSeconds"] = await WaitForPendingAsync(size, exactly: false, TimeSpan.FromSeconds(60));
                var polling = (await StatsAsync())["pendingPolls"]!.GetValue<int>();
                summary["pendingPollsAfter"] = polling;
                Add(label, "throughput", $"bots long-polling again after the load ({name})", polling, "bots", size, Goal.AtLeast);
            }
        }

        await PostAsync(_fakes.Control + "/upstream", new { delayMs = 0 });
    }

    private async Task RunReloadAsync(string label, JsonObject run, HostProcess host, int size)
    {
        await WaitForPendingAsync(size, exactly: false, TimeSpan.FromSeconds(60));
        var unchanged = await ReloadAsync(host);
        run["reloadUnchanged"] = unchanged;
        Add(label, "reload", $"reload of {size} replicas (pages of 100), no change", unchanged["durationMs"]!.GetValue<double>() / 1000, "s", 5, Goal.AtMost);

        var changed = await PostAsync(_fakes.Control + "/replicas/change", new { percent = 10 });
        var startedAt = Stopwatch.GetTimestamp();
        var report = await ReloadAsync(host);
        var allPolling = await WaitForPendingAsync(size, exactly: false, options.WaitLimit, startedAt);
        report["changedUpstream"] = changed["changed"]!.DeepClone();
        report["allPollingAgainSeconds"] = allPolling;
        run["reloadTenPercentChanged"] = report;
        Add(label, "reload", $"reload of {size} replicas, 10 % changed ({report["changed"]} restarted)", report["durationMs"]!.GetValue<double>() / 1000, "s", 5, Goal.AtMost);
        Add(label, "reload", "  … until the changed bots poll again", allPolling, "s");
    }

    // ------------------------------------------------------------------ failover

    private async Task RunFailoverAsync(string hostDll, string logs, CancellationToken cancellationToken)
    {
        var redisServer = FindOnPath("redis-server");
        if (redisServer is null)
        {
            Say("== failover skipped: redis-server is not on PATH.");
            _figures.Add(new Figure("failover", "failover", "skipped: redis-server not on PATH", null, string.Empty));
            return;
        }

        // The service's own transport (TLS + HTTP/2) when it is among those asked for; else the first TLS one.
        var transport = options.Transports.Contains("tls-h2")
            ? "tls-h2"
            : options.Transports.FirstOrDefault(t => t.StartsWith("tls", StringComparison.Ordinal)) ?? options.Transports[0];
        foreach (var size in options.Sizes.Where(s => s > 0))
        {
            var label = $"failover {transport} / {size.ToString("N0", CultureInfo.InvariantCulture)} bots, 2 silos";
            Say($"== {label}");
            var run = new JsonObject { ["scenario"] = "failover", ["transport"] = transport, ["bots"] = size };
            _runs.Add(run);
            var redisPort = ChildProcess.FreePort();
            using var redis = ChildProcess.Start(redisServer, ["--port", redisPort.ToString(CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], new Dictionary<string, string?>(), Path.Combine(logs, $"redis-{size}.log"));
            await Task.Delay(500, cancellationToken);
            var cluster = new ClusterSettings($"127.0.0.1:{redisPort}", $"bench-{_stamp}-{size}");
            await SetReplicasAsync(size);
            await WaitForPendingAsync(0, exactly: true, TimeSpan.FromSeconds(120));
            var hosts = new HostProcess?[2];
            var times = new JsonArray();
            run["killSeconds"] = times;
            try
            {
                hosts[0] = await StartHostAsync(hostDll, logs, transport, $"failover-{size}-s0", cluster);
                hosts[1] = await StartHostAsync(hostDll, logs, transport, $"failover-{size}-s1", cluster);
                run["allPollingSeconds"] = await WaitForPendingAsync(size, exactly: false, options.WaitLimit, hosts[0]!.Process.StartedAt);
                for (var kill = 1; kill <= options.Kills; kill++)
                {
                    var status = await GetStatusAsync(hosts[0]!) ?? await GetStatusAsync(hosts[1]!) ?? [];
                    var bySilo = hosts.Select(h => status.Where(s => s.Silo.Contains($":{h!.SiloPort}", StringComparison.Ordinal)).Select(s => s.ReplicaUuid).ToArray()).ToArray();
                    var victim = bySilo[0].Length >= bySilo[1].Length ? 0 : 1;
                    var uuids = bySilo[victim];
                    var mark = (await PostAsync(_fakes.Control + "/mark", new { }))["mark"]!.GetValue<long>();
                    var killedAt = Stopwatch.GetTimestamp();
                    hosts[victim]!.Dispose();
                    Say($"   kill {kill}: silo {victim} with {uuids.Length} bots killed ...");
                    double? seconds = null;
                    var deadline = killedAt + (long)(options.WaitLimit.TotalSeconds * Stopwatch.Frequency);
                    while (Stopwatch.GetTimestamp() < deadline)
                    {
                        var polling = (await PostAsync(_fakes.Control + "/polling", new { uuids, mark }))["polling"]!.GetValue<int>();
                        if (polling >= uuids.Length)
                        {
                            seconds = Stopwatch.GetElapsedTime(killedAt).TotalSeconds;
                            break;
                        }

                        await Task.Delay(Poll, cancellationToken);
                    }

                    times.Add(seconds);
                    Say($"   kill {kill}: {(seconds is { } s ? $"{s:0.0} s" : "not all polling within the wait limit")}");
                    hosts[victim] = await StartHostAsync(hostDll, logs, transport, $"failover-{size}-s{victim}-r{kill}", cluster);
                    await Task.Delay(options.Settle, cancellationToken);
                }
            }
            finally
            {
                foreach (var host in hosts)
                {
                    host?.Dispose();
                }
            }

            var measured = times.Select(t => t?.GetValue<double>()).ToList();
            var ok = measured.Where(t => t is not null).Select(t => t!.Value).Order().ToList();
            double? median = ok.Count == measured.Count && ok.Count > 0 ? ok[ok.Count / 2] : null;
            double? max = ok.Count == measured.Count && ok.Count > 0 ? ok[^1] : null;
            Add(label, "failover", $"median over {measured.Count} kills", median, "s", 10, Goal.AtMost);
            Add(label, "failover", $"max over {measured.Count} kills", max, "s", 10, Goal.AtMost);
        }
    }

    // ------------------------------------------------------------------ helpers

    private sealed record ClusterSettings(string Redis, string ClusterId);

    private sealed record HostProcess(ChildProcess Process, HttpClient Client, int SiloPort) : IDisposable
    {
        public void Dispose()
        {
            Process.Dispose();
            Client.Dispose();
        }
    }

    private sealed record StatusEntry(string ReplicaUuid, string Silo);

    private async Task<HostProcess> StartHostAsync(string hostDll, string logs, string transport, string name, ClusterSettings? cluster)
    {
        var httpPort = ChildProcess.FreePort();
        var siloPort = ChildProcess.FreePort();
        var gatewayPort = ChildProcess.FreePort();
        var tls = transport.StartsWith("tls", StringComparison.Ordinal);
        var env = new Dictionary<string, string?>(StringComparer.Ordinal)
        {
            ["NODE_ENV"] = "production",
            ["LOG_LEVEL"] = "warn",
            ["HTTP_PORT"] = httpPort.ToString(CultureInfo.InvariantCulture),
            ["SILO_PORT"] = siloPort.ToString(CultureInfo.InvariantCulture),
            ["GATEWAY_PORT"] = gatewayPort.ToString(CultureInfo.InvariantCulture),
            ["ORCHESTRATOR_AUTH_TOKEN"] = _authToken,
            ["SENSAY_API_URL"] = _fakes.Sensay,
            ["SENSAY_API_KEY"] = _fakes.SensayApiKey,
            ["TELEGRAM_API_URL"] = tls ? _fakes.TelegramHttps : _fakes.TelegramHttp,
            ["TELEGRAM_CA_CERT_FILE"] = tls ? _fakes.CertFile : null,
            ["TELEGRAM_HTTP2"] = transport == "tls-h2" ? "true" : "false",
            ["TELEGRAM_POLL_TIMEOUT_S"] = options.PollTimeoutSeconds.ToString(CultureInfo.InvariantCulture),
            ["BOT_START_RATE"] = options.StartRate?.ToString(CultureInfo.InvariantCulture),
            ["BOT_FIRST_POLL_JITTER_MS"] = options.JitterMs?.ToString(CultureInfo.InvariantCulture),
            ["DIAGNOSTICS_ENDPOINTS"] = "true",
            // Reloads happen when the benchmark asks (and once at start), not on a timer in the middle of a window.
            ["RELOAD_BOTS_INTERVAL_MS"] = "3600000",
            ["DOTNET_gcServer"] = options.ServerGc switch { true => "1", false => "0", null => null },
            ["REDIS_CONNECTION_STRING"] = cluster?.Redis,
            ["CLUSTER_ID"] = cluster?.ClusterId,
            ["SERVICE_ID"] = cluster?.ClusterId,
            ["ADVERTISED_IP"] = cluster is null ? null : "127.0.0.1",
            ["ASPNETCORE_URLS"] = null,
            ["ASPNETCORE_ENVIRONMENT"] = null,
            ["DOTNET_ENVIRONMENT"] = null,
        };
        foreach (var (key, value) in options.HostEnvironment)
        {
            env[key] = value;
        }

        var process = ChildProcess.Start("dotnet", [hostDll], env, Path.Combine(logs, $"host-{name}.log"));
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/"), Timeout = TimeSpan.FromMinutes(10) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", _authToken);
        var host = new HostProcess(process, client, siloPort);
        var deadline = Stopwatch.GetTimestamp() + (long)(120 * Stopwatch.Frequency);
        while (true)
        {
            if (process.HasExited)
            {
                host.Dispose();
                throw new InvalidOperationException($"The host exited at start; see {process.LogFile}.");
            }

            try
            {
                // /ready (the silo is active), not /health: that asks every bot its status, and would load the
                // very start it measures with thousands of grain calls.
                using var response = await client.GetAsync("ready");
                if (response.IsSuccessStatusCode)
                {
                    return host;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }

            if (Stopwatch.GetTimestamp() > deadline)
            {
                host.Dispose();
                throw new TimeoutException($"The host was not ready within 120 s; see {process.LogFile}.");
            }

            await Task.Delay(Poll);
        }
    }

    private async Task<JsonObject> ReloadAsync(HostProcess host)
    {
        var started = Stopwatch.GetTimestamp();
        using var response = await host.Client.PostAsync("_diagnostics/reload", null);
        response.EnsureSuccessStatusCode();
        var report = (JsonObject)(await response.Content.ReadFromJsonAsync<JsonNode>())!;
        report["wallSeconds"] = Stopwatch.GetElapsedTime(started).TotalSeconds;
        return report;
    }

    private static async Task<JsonObject?> RuntimeAsync(HostProcess host, bool gc)
    {
        using var response = await host.Client.GetAsync(gc ? "_diagnostics/runtime?gc=true" : "_diagnostics/runtime");
        return response.IsSuccessStatusCode ? (JsonObject?)await response.Content.ReadFromJsonAsync<JsonNode>() : null;
    }

    private static async Task<StatusEntry[]?> GetStatusAsync(HostProcess host)
    {
        try
        {
            return await host.Client.GetFromJsonAsync<StatusEntry[]>("status");
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    private Task SetReplicasAsync(int count) => PostAsync(_fakes.Control + "/replicas", new { count });

    private async Task<JsonObject> StatsAsync() => (JsonObject)(await _http.GetFromJsonAsync<JsonNode>(_fakes.Control + "/stats"))!;

    private async Task<long> CallCountAsync(string method) => (await StatsAsync())["calls"]?[method]?.GetValue<long>() ?? 0;

    private async Task<JsonObject> PostAsync(string url, object body)
    {
        using var response = await _http.PostAsJsonAsync(url, body);
        response.EnsureSuccessStatusCode();
        return (JsonObject)(await response.Content.ReadFromJsonAsync<JsonNode>())!;
    }

    private async Task<JsonObject> LoadAsync(int count, double rate, int upstreamMs)
    {
        await PostAsync(_fakes.Control + "/upstream", new { delayMs = upstreamMs });
        var callsBefore = (await StatsAsync())["calls"]!.DeepClone();
        await PostAsync(_fakes.Control + "/load", new { count, rate, holdCollections = options.HoldEmulatorCollections });
        var limit = TimeSpan.FromSeconds((rate > 0 ? count / rate : 0) + 60) + options.WaitLimit;
        var started = Stopwatch.GetTimestamp();
        JsonObject summary;
        do
        {
            await Task.Delay(TimeSpan.FromMilliseconds(250));
            summary = (JsonObject)(await _http.GetFromJsonAsync<JsonNode>(_fakes.Control + "/load"))!;
        }
        while (!summary["done"]!.GetValue<bool>() && Stopwatch.GetElapsedTime(started) < limit);

        if (!summary["done"]!.GetValue<bool>())
        {
            // Gave up: the percentiles of the replies that came.
            summary = (JsonObject)(await _http.GetFromJsonAsync<JsonNode>(_fakes.Control + "/load?percentiles=true"))!;
        }

        // Bot API calls per reply during the load, by method: what the replies cost the emulator (and the host).
        var replied = Math.Max(1, summary["replied"]!.GetValue<int>());
        var perReply = new JsonObject();
        foreach (var (method, after) in (JsonObject)(await StatsAsync())["calls"]!)
        {
            var delta = after!.GetValue<long>() - (callsBefore[method]?.GetValue<long>() ?? 0);
            if (delta > 0)
            {
                perReply[method] = Math.Round((double)delta / replied, 2);
            }
        }

        summary["botApiCallsPerReply"] = perReply;
        return summary;
    }

    /// <summary>
    /// Seconds from <paramref name="since"/> (a Stopwatch timestamp; default: now) until the emulator holds
    /// <paramref name="count"/> long polls (or at least that many); null past <paramref name="limit"/>. With
    /// <paramref name="milestones"/>, also when the first and half of them were held ("firstSeconds", "halfSeconds"):
    /// where a start's time goes.
    /// </summary>
    private async Task<double?> WaitForPendingAsync(int count, bool exactly, TimeSpan limit, long? since = null, JsonObject? milestones = null)
    {
        var from = since ?? Stopwatch.GetTimestamp();
        var waitStarted = Stopwatch.GetTimestamp();
        while (true)
        {
            var pending = (await StatsAsync())["pendingPolls"]!.GetValue<int>();
            if (milestones is not null)
            {
                var elapsed = Stopwatch.GetElapsedTime(from).TotalSeconds;
                if (pending > 0 && !milestones.ContainsKey("firstSeconds"))
                {
                    milestones["firstSeconds"] = elapsed;
                }

                if (pending >= count / 2 && !milestones.ContainsKey("halfSeconds"))
                {
                    milestones["halfSeconds"] = elapsed;
                }
            }

            if (exactly ? pending == count : pending >= count)
            {
                return Stopwatch.GetElapsedTime(from).TotalSeconds;
            }

            if (Stopwatch.GetElapsedTime(waitStarted) > limit)
            {
                Say($"   (gave up after {limit.TotalSeconds:0} s waiting for {(exactly ? "exactly" : "at least")} {count} pending polls; {pending} pending)");
                return null;
            }

            await Task.Delay(Poll);
        }
    }

    /// <summary>The first bot and half of them polling: the fixed part of a start, then the paced part.</summary>
    private void AddMilestones(string label, string after, JsonObject milestones)
    {
        Add(label, "startup", $"first bot polling {after}", milestones["firstSeconds"]?.GetValue<double>(), "s");
        Add(label, "startup", $"half of the bots polling {after}", milestones["halfSeconds"]?.GetValue<double>(), "s");
    }

    /// <summary>
    /// What the host spent on a start, from its runtime counters read when all bots polled, minus a reading before it
    /// (<paramref name="since"/>; null: from the launch): CPU time of all its threads, time paused for collections,
    /// bytes allocated; and the fakes' CPU time since <paramref name="fakesSince"/>, which the service's start costs them
    /// on the same cores. A start bound by the cores shows the two CPU times adding up to twice the wall-clock time.
    /// </summary>
    private void AddStartCost(string label, string after, JsonObject milestones, JsonObject? since, JsonObject? until, ProcSample fakesSince)
    {
        void Record(string key, string name, double value, string unit)
        {
            milestones[key] = value;
            Add(label, "startup", $"{name} {after}, until all polled", value, unit);
        }

        Record("fakesCpuSeconds", "fakes' CPU time", ProcSample.CpuSeconds(fakesSince, ProcSample.Read(_fakesPid)), "s");
        if (until is null)
        {
            return;
        }

        double Delta(string name) => until[name]!.GetValue<double>() - (since?[name]?.GetValue<double>() ?? 0);
        Record("hostCpuSeconds", "host CPU time", Delta("cpuMs") / 1000, "s");
        Record("hostGcPauseSeconds", "host paused for collections", Delta("gcPauseMs") / 1000, "s");
        Record("hostAllocatedMiB", "host allocations", Delta("allocatedBytes") / (1024.0 * 1024), "MiB");
    }

    /// <summary>
    /// The host's garbage collections during a load, from two readings of its runtime counters: how many of each
    /// generation, and the mean pause. The latency tail at a fixed rate is where the pauses fall.
    /// </summary>
    private void AddCollections(string label, string name, JsonObject summary, JsonObject? before, JsonObject? after)
    {
        if (before is null || after is null)
        {
            return;
        }

        double Delta(string key) => after[key]!.GetValue<double>() - before[key]!.GetValue<double>();
        var (gen0, gen1, gen2) = (Delta("gen0Collections"), Delta("gen1Collections"), Delta("gen2Collections"));
        var pauseMs = Delta("gcPauseMs");
        summary["hostCollections"] = new JsonObject { ["gen0"] = gen0, ["gen1"] = gen1, ["gen2"] = gen2, ["pauseMs"] = pauseMs };
        // CollectionCount(0) counts every collection, CollectionCount(1) those of gen 1 and 2.
        Add(label, "throughput", $"host collections, all generations ({name})", gen0, "collections");
        Add(label, "throughput", $"host collections of gen 1 or 2 ({name})", gen1, "collections");
        Add(label, "throughput", $"host mean pause per collection ({name})", gen0 > 0 ? pauseMs / gen0 : null, "ms");
    }

    private void Add(string run, string scenario, string name, double? value, string unit, double? target = null, Goal goal = Goal.AtMost)
    {
        var figure = Figure.Of(run, scenario, name, value, unit, target, goal);
        _figures.Add(figure);
        Say($"   {scenario,-10} {name}: {figure.Display}");
    }

    private void Say(string line)
    {
        lock (log)
        {
            log.WriteLine(line);
            log.Flush();
        }
    }

    private JsonObject Settings(string configuration) => new()
    {
        ["scenarios"] = new JsonArray([.. options.Scenarios.Select(s => (JsonNode)s)]),
        ["sizes"] = new JsonArray([.. options.Sizes.Select(s => (JsonNode)s)]),
        ["transports"] = new JsonArray([.. options.Transports.Select(s => (JsonNode)s)]),
        ["cpuWindowSeconds"] = options.CpuWindow.TotalSeconds,
        ["settleSeconds"] = options.Settle.TotalSeconds,
        ["TELEGRAM_POLL_TIMEOUT_S"] = options.PollTimeoutSeconds,
        ["BOT_START_RATE"] = options.StartRate is { } rate ? rate : "service default",
        ["BOT_FIRST_POLL_JITTER_MS"] = options.JitterMs is { } jitter ? jitter : "service default",
        ["gc"] = options.ServerGc switch { true => "server", false => "workstation", null => "service default (server)" },
        ["burstMessages"] = options.BurstMessages,
        ["fixedRate"] = options.FixedRate,
        ["fixedRateSeconds"] = options.FixedRateDuration.TotalSeconds,
        ["upstreamDelaysMs"] = new JsonArray([.. options.UpstreamDelaysMs.Select(s => (JsonNode)s)]),
        ["fakesCollectionsDuringLoad"] = options.HoldEmulatorCollections ? "held (no-GC region per load run)" : "collect",
        ["kills"] = options.Kills,
        ["hostEnvironment"] = new JsonObject(options.HostEnvironment.Select(kv => KeyValuePair.Create(kv.Key, (JsonNode?)kv.Value))),
        ["configuration"] = configuration,
        ["emulatorCertificate"] = "self-signed ECDSA P-256, generated at start",
    };

    private static JsonObject Machine(string root)
    {
        static string? Read(string path, string prefix) =>
            File.Exists(path) ? File.ReadLines(path).FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))?.Split(':', 2)[1].Trim() : null;

        return new JsonObject
        {
            ["cores"] = Environment.ProcessorCount,
            ["memory"] = Read("/proc/meminfo", "MemTotal"),
            ["cpu"] = Read("/proc/cpuinfo", "model name"),
            ["os"] = System.Runtime.InteropServices.RuntimeInformation.OSDescription,
            ["dotnet"] = System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription,
            ["commit"] = Git(root, "rev-parse", "--short", "HEAD"),
            ["dirty"] = !string.IsNullOrWhiteSpace(Git(root, "status", "--porcelain", "--untracked-files=no")),
            ["loadAverage"] = File.Exists("/proc/loadavg") ? File.ReadAllText("/proc/loadavg").Trim() : null,
        };
    }

    private static string? Git(string root, params string[] args)
    {
        try
        {
            var info = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = root };
            foreach (var arg in args)
            {
                info.ArgumentList.Add(arg);
            }

            using var git = Process.Start(info)!;
            var output = git.StandardOutput.ReadToEnd().Trim();
            git.WaitForExit();
            return git.ExitCode == 0 ? output : null;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private static string? FindOnPath(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Orchestrator.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException($"Orchestrator.sln not found above {AppContext.BaseDirectory}.");
    }

    private static string Output(string root, string project, string configuration, string dll)
    {
        var path = Path.Combine(root, project, "bin", configuration, "net10.0", dll);
        return File.Exists(path)
            ? path
            : throw new FileNotFoundException($"{path} is missing: build the solution in {configuration} first (dotnet run -c {configuration} --project test/Orchestrator.Benchmarks builds it).");
    }

    private sealed record FakesEndpoints(string TelegramHttp, string TelegramHttps, string CertFile, string Sensay, string SensayApiKey, string Control)
    {
        public static FakesEndpoints Parse(string json)
        {
            var o = JsonNode.Parse(json)!;
            string S(string key) => o[key]?.GetValue<string>() ?? throw new InvalidOperationException($"FAKES_READY has no {key}.");
            return new FakesEndpoints(S("telegramHttp"), S("telegramHttps"), S("certFile"), S("sensay"), S("sensayApiKey"), S("control"));
        }
    }
}

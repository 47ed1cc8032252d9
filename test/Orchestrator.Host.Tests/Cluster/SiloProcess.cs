using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Runtime.InteropServices;
using System.Text;
using Orchestrator.Host.Tests.Infrastructure;

namespace Orchestrator.Host.Tests.Cluster;

/// <summary>
/// The built Orchestrator.Host.dll run as a real process (<c>dotnet Orchestrator.Host.dll</c>) on free HTTP, silo and
/// gateway ports, with its stdout/stderr kept for failure messages. Disposing kills it if it still runs.
/// </summary>
public sealed class SiloProcess : IAsyncDisposable
{
    /// <summary>The Bearer token every test silo runs with.</summary>
    public const string AuthToken = "cluster-test-auth-token-0123456789";

    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(90);
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private readonly Stopwatch _sinceStart = Stopwatch.StartNew();

    private SiloProcess(string name, Process process, int httpPort, int siloPort)
    {
        Name = name;
        _process = process;
        HttpPort = httpPort;
        SiloPort = siloPort;
        BaseAddress = new Uri($"http://127.0.0.1:{httpPort}/");
    }

    /// <summary>A label for messages (e.g. "silo-1").</summary>
    public string Name { get; }

    public int HttpPort { get; }

    /// <summary>SILO_PORT; a bot's <c>silo</c> in /status ends with <c>127.0.0.1:{SiloPort}:…</c>.</summary>
    public int SiloPort { get; }

    public Uri BaseAddress { get; }

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>True when a /status <c>silo</c> value names this process.</summary>
    public bool Hosts(string? silo) => silo is not null && silo.Contains($"127.0.0.1:{SiloPort}:", StringComparison.Ordinal);

    /// <summary>
    /// Starts a silo with <paramref name="environment"/> (SPEC §3 variables) over the defaults (test environment,
    /// free ports, loopback advertised address, the test auth token), and waits until it answers <c>/health</c>.
    /// </summary>
    public static async Task<SiloProcess> StartAsync(string name, IReadOnlyDictionary<string, string> environment)
    {
        // A free port is found by binding and releasing it, so another process of the parallel test run can take it
        // before the silo binds it: then start again on other ports.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await StartOnceAsync(name, environment);
            }
            catch (InvalidOperationException ex) when (attempt < 3 && ex.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
            }
        }
    }

    private static async Task<SiloProcess> StartOnceAsync(string name, IReadOnlyDictionary<string, string> environment)
    {
        var ports = OrchestratorHost.FreePorts(3);
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(HostDll());
        var env = new Dictionary<string, string>
        {
            ["NODE_ENV"] = "test",
            ["LOG_LEVEL"] = "info",
            ["ORCHESTRATOR_AUTH_TOKEN"] = AuthToken,
            ["HTTP_PORT"] = ports[0].ToString(CultureInfo.InvariantCulture),
            ["SILO_PORT"] = ports[1].ToString(CultureInfo.InvariantCulture),
            ["GATEWAY_PORT"] = ports[2].ToString(CultureInfo.InvariantCulture),
            ["ADVERTISED_IP"] = "127.0.0.1",
            ["DOTNET_gcServer"] = "0", // several silos share two cores
        };
        foreach (var (key, value) in environment)
        {
            env[key] = value;
        }

        foreach (var (key, value) in env)
        {
            start.Environment[key] = value;
        }

        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        var silo = new SiloProcess(name, process, int.Parse(env["HTTP_PORT"], CultureInfo.InvariantCulture), int.Parse(env["SILO_PORT"], CultureInfo.InvariantCulture));
        process.OutputDataReceived += silo.OnLine;
        process.ErrorDataReceived += silo.OnLine;
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await silo.WaitUntilReadyAsync();
        }
        catch
        {
            await silo.DisposeAsync();
            throw;
        }

        return silo;
    }

    /// <summary>A client for this silo's API, with the Bearer token.</summary>
    public HttpClient CreateClient(TimeSpan? timeout = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = timeout ?? TimeSpan.FromSeconds(30) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AuthToken);
        return client;
    }

    /// <summary>kill -9: <c>Process.Kill(true)</c>; returns the exit code and how long the process took to end.</summary>
    public async Task<(int ExitCode, TimeSpan Elapsed)> KillAsync()
    {
        var watch = Stopwatch.StartNew();
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
        return (_process.ExitCode, watch.Elapsed);
    }

    /// <summary>SIGTERM (<c>kill(pid, 15)</c>); waits up to <paramref name="timeout"/> for the exit, then kills it and fails.</summary>
    public async Task<(int ExitCode, TimeSpan Elapsed)> TerminateAsync(TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        if (Kill(_process.Id, SigTerm) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, SIGTERM) failed: errno {Marshal.GetLastPInvokeError()}");
        }

        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            _process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{Name} did not exit within {timeout.TotalSeconds} s of SIGTERM; output:\n{Output}");
        }

        return (_process.ExitCode, watch.Elapsed);
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            }
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }

        _process.Dispose();
    }

    private void OnLine(object sender, DataReceivedEventArgs e)
    {
        if (e.Data is not null)
        {
            lock (_output)
            {
                _output.Append(CultureInfo.InvariantCulture, $"[{_sinceStart.Elapsed.TotalSeconds,7:0.000}] ").AppendLine(e.Data);
            }
        }
    }

    /// <summary>Polls /health (bounded) until the API answers; fails at once when the process exits.</summary>
    private async Task WaitUntilReadyAsync()
    {
        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var exited = _process.WaitForExitAsync();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < ReadyTimeout)
        {
            if (exited.IsCompleted)
            {
                throw new InvalidOperationException($"{Name} exited with code {_process.ExitCode} before it was ready; output:\n{Output}");
            }

            try
            {
                using var response = await client.GetAsync("/health");
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Listening but still starting.
            }

            await Task.WhenAny(exited, Task.Delay(200));
        }

        throw new TimeoutException($"{Name} did not answer /health within {ReadyTimeout.TotalSeconds} s; output:\n{Output}");
    }

    /// <summary>Orchestrator.Host.dll beside the test assembly (the project reference copies it there, with its runtimeconfig).</summary>
    internal static string HostDll()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "Orchestrator.Host.dll");
        if (File.Exists(beside) && File.Exists(Path.ChangeExtension(beside, ".runtimeconfig.json")))
        {
            return beside;
        }

        throw new FileNotFoundException($"Orchestrator.Host.dll (with its runtimeconfig) not found beside {AppContext.BaseDirectory}.");
    }

    private const int SigTerm = 15;

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}

using System.Diagnostics;
using System.Net.Sockets;
using System.Text;
using Orchestrator.Host.Tests.Infrastructure;

namespace Orchestrator.Host.Tests.Cluster;

/// <summary>
/// A private <c>redis-server</c> on a free loopback port, without persistence (<c>--save "" --appendonly no</c>), in a
/// temporary directory. It can be stopped and started again on the same port; a stop with <c>persist</c> writes a
/// snapshot first (SHUTDOWN SAVE), so the restart finds the data like a production Redis restart would.
/// </summary>
public sealed class RedisServer : IAsyncDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(20);
    private readonly string _executable;
    private readonly string _directory;
    private readonly StringBuilder _output = new();
    private Process? _process;

    private RedisServer(string executable, int port)
    {
        _executable = executable;
        Port = port;
        _directory = Directory.CreateTempSubdirectory("orchestrator-redis-").FullName;
    }

    /// <summary>The TCP port on 127.0.0.1.</summary>
    public int Port { get; }

    /// <summary>For REDIS_CONNECTION_STRING.</summary>
    public string ConnectionString => $"127.0.0.1:{Port}";

    /// <summary>What redis-server printed, for failure messages.</summary>
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

    /// <summary>The redis-server executable on PATH, or null.</summary>
    public static string? FindOnPath() =>
        (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, "redis-server"))
            .FirstOrDefault(File.Exists);

    /// <summary>Starts a server, or skips the calling test (never a silent pass) when redis-server is not on PATH.</summary>
    public static async Task<RedisServer> StartOrSkipAsync()
    {
        var executable = FindOnPath();
        if (executable is null)
        {
            Assert.Skip($"redis-server is not on PATH: the cluster tests need a real Redis (PATH={Environment.GetEnvironmentVariable("PATH")}).");
        }

        var server = new RedisServer(executable, OrchestratorHost.FreePorts(1)[0]);
        await server.StartAsync();
        return server;
    }

    /// <summary>Starts (again) on <see cref="Port"/> and waits until it accepts connections.</summary>
    public async Task StartAsync()
    {
        if (_process is { HasExited: false })
        {
            throw new InvalidOperationException("redis-server is already running.");
        }

        var start = new ProcessStartInfo(_executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = _directory,
        };
        foreach (var arg in new[] { "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", _directory, "--protected-mode", "no" })
        {
            start.ArgumentList.Add(arg);
        }

        var ready = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var process = new Process { StartInfo = start, EnableRaisingEvents = true };
        DataReceivedEventHandler onLine = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (_output)
            {
                _output.AppendLine(e.Data);
            }

            if (e.Data.Contains("Ready to accept connections", StringComparison.Ordinal))
            {
                ready.TrySetResult();
            }
        };
        process.OutputDataReceived += onLine;
        process.ErrorDataReceived += onLine;
        process.Exited += (_, _) => ready.TrySetException(new InvalidOperationException($"redis-server exited at start:\n{Output}"));
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;
        try
        {
            await ready.Task.WaitAsync(StartTimeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"redis-server did not print 'Ready to accept connections' within {StartTimeout.TotalSeconds} s:\n{Output}");
        }
    }

    /// <summary>
    /// Stops the server and waits for the process to end. With <paramref name="persist"/> it snapshots first
    /// (SHUTDOWN SAVE), so <see cref="StartAsync"/> loads the data again; otherwise it is killed and the data is gone.
    /// </summary>
    public async Task StopAsync(bool persist)
    {
        if (_process is not { } process || process.HasExited)
        {
            return;
        }

        if (persist)
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", Port);
            await client.GetStream().WriteAsync("SHUTDOWN SAVE\r\n"u8.ToArray());
        }
        else
        {
            process.Kill(entireProcessTree: true);
        }

        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false } process)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        }

        _process?.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temp directory is harmless.
        }
    }
}

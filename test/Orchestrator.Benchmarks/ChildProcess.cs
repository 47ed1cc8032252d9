using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Orchestrator.Benchmarks;

/// <summary>A child process (the fakes, a host, redis-server) whose output goes to a log file; killed with SIGKILL when disposed.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StreamWriter _log;
    private readonly Lock _sync = new();
    private readonly List<(string Prefix, TaskCompletionSource<string> Line)> _watches = [];

    private ChildProcess(Process process, StreamWriter log, long startedAt)
    {
        _process = process;
        _log = log;
        StartedAt = startedAt;
    }

    /// <summary>Stopwatch timestamp taken just before the process was started.</summary>
    public long StartedAt { get; }

    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public string LogFile { get; private init; } = string.Empty;

    public static ChildProcess Start(string fileName, IEnumerable<string> arguments, IReadOnlyDictionary<string, string?> environment, string logFile)
    {
        var info = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        foreach (var (key, value) in environment)
        {
            if (value is null)
            {
                info.Environment.Remove(key);
            }
            else
            {
                info.Environment[key] = value;
            }
        }

        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(logFile))!);
        var log = new StreamWriter(logFile, append: false) { AutoFlush = true };
        var startedAt = Stopwatch.GetTimestamp();
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var child = new ChildProcess(process, log, startedAt) { LogFile = logFile };
        process.OutputDataReceived += (_, e) => child.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => child.OnLine(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    /// <summary>Completes with the first output line (from now on) that starts with <paramref name="prefix"/>.</summary>
    public Task<string> WaitForLineAsync(string prefix, TimeSpan timeout)
    {
        var line = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_sync)
        {
            _watches.Add((prefix, line));
        }

        _ = _process.WaitForExitAsync().ContinueWith(
            _ => line.TrySetException(new InvalidOperationException($"{Path.GetFileName(_process.StartInfo.FileName)} exited (code {_process.ExitCode}) before printing \"{prefix}\"; see {LogFile}.")),
            TaskScheduler.Default);
        return line.Task.WaitAsync(timeout);
    }

    private void OnLine(string? data)
    {
        if (data is null)
        {
            return;
        }

        lock (_sync)
        {
            _log.WriteLine(data);
            for (var i = _watches.Count - 1; i >= 0; i--)
            {
                if (data.StartsWith(_watches[i].Prefix, StringComparison.Ordinal))
                {
                    _watches[i].Line.TrySetResult(data);
                    _watches.RemoveAt(i);
                }
            }
        }
    }

    /// <summary>kill -9.</summary>
    public void Kill()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(10_000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
    }

    /// <inheritdoc />
    public void Dispose()
    {
        Kill();
        _process.Dispose();
        lock (_sync)
        {
            _log.Dispose();
        }
    }

    /// <summary>A free TCP port on 127.0.0.1 (released at once; fine for a benchmark on a quiet machine).</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>What /proc says about a process.</summary>
public readonly record struct ProcSample(long RssKiB, int Threads, long CpuTicks, long At)
{
    private static readonly Lazy<long> ClockTicks = new(ReadClockTicks);

    /// <summary>Reads /proc/&lt;pid&gt;/status (VmRSS, Threads) and /proc/&lt;pid&gt;/stat (utime + stime).</summary>
    public static ProcSample Read(int pid)
    {
        long rss = 0;
        var threads = 0;
        foreach (var line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                rss = long.Parse(line.AsSpan(6).Trim().ToString().Split(' ')[0], CultureInfo.InvariantCulture);
            }
            else if (line.StartsWith("Threads:", StringComparison.Ordinal))
            {
                threads = int.Parse(line.AsSpan(8).Trim(), CultureInfo.InvariantCulture);
            }
        }

        // Fields after the command name (which may contain spaces) start at "state": utime and stime are the 12th and 13th.
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var cpu = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return new ProcSample(rss, threads, cpu, Stopwatch.GetTimestamp());
    }

    /// <summary>CPU use between two samples, in percent of one core.</summary>
    public static double CpuPercent(ProcSample from, ProcSample to)
    {
        var seconds = Stopwatch.GetElapsedTime(from.At, to.At).TotalSeconds;
        return seconds <= 0 ? 0 : CpuSeconds(from, to) / seconds * 100;
    }

    /// <summary>CPU time between two samples, in seconds.</summary>
    public static double CpuSeconds(ProcSample from, ProcSample to) => (to.CpuTicks - from.CpuTicks) / (double)ClockTicks.Value;

    private static long ReadClockTicks()
    {
        try
        {
            using var getconf = Process.Start(new ProcessStartInfo("getconf", "CLK_TCK") { RedirectStandardOutput = true, UseShellExecute = false })!;
            var text = getconf.StandardOutput.ReadToEnd();
            getconf.WaitForExit();
            return long.TryParse(text.Trim(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var ticks) && ticks > 0 ? ticks : 100;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return 100;
        }
    }
}

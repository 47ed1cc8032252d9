using System.Diagnostics;

namespace Orchestrator.Host.Tests;

/// <summary>The real executable, started as a separate process.</summary>
public sealed class ProcessTests
{
    [Fact]
    public async Task A_bad_setting_stops_the_process_with_exit_code_1_and_one_line_naming_it()
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(HostDll());
        start.Environment["HTTP_PORT"] = "abc";
        start.Environment["ORCHESTRATOR_AUTH_TOKEN"] = "a secret with spaces";
        start.Environment.Remove("NODE_ENV");

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(TestContext.Current.CancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(TestContext.Current.CancellationToken);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken).WaitAsync(TimeSpan.FromSeconds(60), TestContext.Current.CancellationToken);
        var output = await stdout + await stderr;

        Assert.True(process.ExitCode == 1, $"exit code {process.ExitCode}; output:\n{output}");
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Single(lines, l => l.Contains("HTTP_PORT", StringComparison.Ordinal));
        Assert.Single(lines, l => l.Contains("ORCHESTRATOR_AUTH_TOKEN", StringComparison.Ordinal));
        Assert.Equal(2, lines.Length);
        Assert.DoesNotContain("a secret with spaces", output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", output, StringComparison.Ordinal); // no stack trace
    }

    /// <summary>Orchestrator.Host.dll beside the test assembly (the project reference copies it there, with its runtimeconfig).</summary>
    private static string HostDll()
    {
        var beside = Path.Combine(AppContext.BaseDirectory, "Orchestrator.Host.dll");
        if (File.Exists(beside) && File.Exists(Path.ChangeExtension(beside, ".runtimeconfig.json")))
        {
            return beside;
        }

        // Fallback: the host project's own output for the same configuration.
        var configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent!.Parent!.Name;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "src", "Orchestrator.Host", "bin", configuration, "net10.0", "Orchestrator.Host.dll");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"Orchestrator.Host.dll not found beside {AppContext.BaseDirectory} nor in src/Orchestrator.Host/bin/{configuration}.");
    }
}

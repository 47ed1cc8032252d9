using Microsoft.Extensions.Options;

namespace Orchestrator.Host.Hosting;

/// <summary>Runs the host, turning a configuration error into one line per problem and exit code 1.</summary>
public static class RunWebApplicationExtensions
{
    /// <summary>Exit code of a process stopped by invalid configuration.</summary>
    public const int ConfigurationErrorExitCode = 1;

    /// <summary>
    /// Runs until shutdown and returns 0. When the options validation at start fails, writes each problem on its own
    /// line to stderr (<c>Configuration error: HTTP_PORT must be ...</c>) and returns 1 instead of a stack trace.
    /// </summary>
    public static async Task<int> RunOrExitAsync(this WebApplication app)
    {
        try
        {
            // The same check the host runs at start, done first so a bad setting is reported before anything logs.
            app.Services.GetService<IStartupValidator>()?.Validate();
            await app.RunAsync();
            return 0;
        }
        catch (Exception ex) when (FindValidationFailure(ex) is { } failure)
        {
            foreach (var line in failure.Failures.SelectMany(f => f.Split('\n')).Where(l => l.Trim().Length > 0).Distinct())
            {
                await Console.Error.WriteLineAsync($"Configuration error: {line.Trim()}");
            }

            return ConfigurationErrorExitCode;
        }
    }

    private static OptionsValidationException? FindValidationFailure(Exception? exception) => exception switch
    {
        null => null,
        OptionsValidationException validation => validation,
        AggregateException aggregate => aggregate.InnerExceptions.Select(FindValidationFailure).FirstOrDefault(f => f is not null),
        _ => FindValidationFailure(exception.InnerException),
    };
}

using Orchestrator.Host.Options;

namespace Orchestrator.Host.Hosting;

/// <summary>Applies <c>NODE_ENV</c> before the builder reads any environment-specific settings.</summary>
public static class NodeEnvironment
{
    /// <summary>
    /// Builder options whose environment is the one <c>NODE_ENV</c> names (development → Development,
    /// production → Production, test → Test), read from the environment variables and the command line.
    /// Unset or unknown: the usual .NET default applies (an unknown value is reported by the validator).
    /// </summary>
    public static WebApplicationOptions BuilderOptions(string[] args)
    {
        var bootstrap = new ConfigurationBuilder().AddEnvironmentVariables().AddCommandLine(args).Build();
        return new WebApplicationOptions
        {
            Args = args,
            EnvironmentName = ServiceSettingsBinder.ToEnvironmentName(bootstrap[EnvVars.NodeEnv]),
        };
    }
}

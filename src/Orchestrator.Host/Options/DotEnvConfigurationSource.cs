namespace Orchestrator.Host.Options;

/// <summary>
/// A <c>.env.local</c> file (<c>KEY=value</c> lines, <c>#</c> comments, optional quotes and <c>export</c>) as a
/// configuration source. Used in development only, below the real environment variables so those still win.
/// </summary>
public sealed class DotEnvConfigurationSource(string path) : IConfigurationSource
{
    /// <inheritdoc />
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new Provider(path);

    /// <summary>Parses the text of a dotenv file; later lines win.</summary>
    public static Dictionary<string, string?> Parse(string text)
    {
        var values = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var rawLine in text.Split('\n'))
        {
            var line = rawLine.Trim();
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            if (line.StartsWith("export ", StringComparison.Ordinal))
            {
                line = line["export ".Length..].TrimStart();
            }

            var equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                continue;
            }

            var key = line[..equals].Trim();
            var value = line[(equals + 1)..].Trim();
            if (value.Length >= 2 && (value[0] == '"' || value[0] == '\'') && value[^1] == value[0])
            {
                value = value[1..^1];
            }

            values[key] = value;
        }

        return values;
    }

    private sealed class Provider(string path) : ConfigurationProvider
    {
        public override void Load() => Data = File.Exists(path) ? Parse(File.ReadAllText(path)) : [];
    }
}

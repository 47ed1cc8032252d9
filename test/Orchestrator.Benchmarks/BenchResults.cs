using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchestrator.Benchmarks;

/// <summary>Which side of a target is good.</summary>
public enum Goal
{
    AtMost,
    AtLeast,
}

/// <summary>One measured figure, with the issue's target when it has one.</summary>
public sealed record Figure(string Run, string Scenario, string Name, double? Value, string Unit, double? Target = null, Goal Goal = Goal.AtMost)
{
    /// <summary>Met or missed; null without a target. A figure that could not be measured (timeout) misses its target.</summary>
    public bool? Met => Target is not { } target ? null : Value is { } value && (Goal == Goal.AtMost ? value <= target : value >= target);

    public string Display => Value is { } value ? $"{Format(value)} {Unit}{TargetText}" : $"not measured (timed out){TargetText}";

    public string TargetText => Target is { } target ? $"   [target {(Goal == Goal.AtMost ? "≤" : "≥")} {Format(target)} {Unit}: {(Met == true ? "met" : "MISSED")}]" : string.Empty;

    public static Figure Of(string run, string scenario, string name, double? value, string unit, double? target, Goal goal) =>
        new(run, scenario, name, value is { } v && double.IsFinite(v) ? Math.Round(v, 3) : null, unit, target, goal);

    /// <summary>A note in the results, no value (e.g. a skipped scenario).</summary>
    public Figure(string run, string scenario, string note, double? value, string unit)
        : this(run, scenario, note, value, unit, null, Goal.AtMost)
    {
    }

    public static string Format(double value) => Math.Abs(value) switch
    {
        >= 100 => value.ToString("N0", CultureInfo.InvariantCulture),
        >= 10 => value.ToString("0.0", CultureInfo.InvariantCulture),
        _ => value.ToString("0.00", CultureInfo.InvariantCulture),
    };
}

/// <summary>A run's results: written as JSON (everything) and Markdown (the figures, to paste into the issue).</summary>
public sealed record BenchResults(JsonObject Machine, DateTimeOffset Started, DateTimeOffset Finished, JsonObject Settings, IReadOnlyList<Figure> Figures, JsonArray Runs)
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public (string Json, string Markdown) Write(string directory, string stamp)
    {
        Directory.CreateDirectory(directory);
        var json = Path.Combine(directory, $"bench-{stamp}.json");
        var markdown = Path.Combine(directory, $"bench-{stamp}.md");
        var document = new JsonObject
        {
            ["machine"] = Machine.DeepClone(),
            ["started"] = Started.ToString("O", CultureInfo.InvariantCulture),
            ["finished"] = Finished.ToString("O", CultureInfo.InvariantCulture),
            ["settings"] = Settings.DeepClone(),
            ["figures"] = new JsonArray([.. Figures.Select(f => (JsonNode)new JsonObject
            {
                ["run"] = f.Run,
                ["scenario"] = f.Scenario,
                ["name"] = f.Name,
                ["value"] = f.Value,
                ["unit"] = f.Unit,
                ["target"] = f.Target,
                ["goal"] = f.Target is null ? null : f.Goal == Goal.AtMost ? "at most" : "at least",
                ["met"] = f.Met,
            })]),
            ["runs"] = Runs.DeepClone(),
        };
        File.WriteAllText(json, document.ToJsonString(Indented) + "\n");
        File.WriteAllText(markdown, Markdown());
        return (json, markdown);
    }

    public string Markdown()
    {
        var m = Machine;
        var s = new StringBuilder();
        s.AppendLine(CultureInfo.InvariantCulture, $"### Benchmark {Started:yyyy-MM-dd HH:mm} UTC, commit {m["commit"]}{(m["dirty"]?.GetValue<bool>() == true ? " (dirty)" : string.Empty)}");
        s.AppendLine();
        s.AppendLine(CultureInfo.InvariantCulture, $"Machine: {m["cores"]} cores ({m["cpu"]}), {m["memory"]} memory, {m["os"]}, {m["dotnet"]}; load average at the end {m["loadAverage"]}.");
        s.AppendLine(CultureInfo.InvariantCulture, $"Settings: {string.Join(", ", Settings.Where(kv => kv.Value is not JsonObject).Select(kv => $"{kv.Key} {kv.Value?.ToJsonString().Trim('"')}"))}; took {(Finished - Started).TotalMinutes:0.0} min.");
        if (Settings["hostEnvironment"] is JsonObject { Count: > 0 } env)
        {
            s.AppendLine(CultureInfo.InvariantCulture, $"Extra host environment: {env.ToJsonString()}.");
        }

        s.AppendLine();
        s.AppendLine("Targets are the issue's, for one 2-core silo over TLS at 10,000 bots (20,000 for the stretch); they are shown next to every run.");
        foreach (var run in Figures.GroupBy(f => f.Run))
        {
            s.AppendLine();
            s.AppendLine(CultureInfo.InvariantCulture, $"#### {run.Key}");
            s.AppendLine();
            s.AppendLine("| scenario | figure | value | target | |");
            s.AppendLine("|---|---|---|---|---|");
            foreach (var f in run)
            {
                var value = f.Value is { } v ? $"{Figure.Format(v)} {f.Unit}" : f.Unit.Length == 0 ? "–" : "not measured (timed out)";
                var target = f.Target is { } t ? $"{(f.Goal == Goal.AtMost ? "≤" : "≥")} {Figure.Format(t)} {f.Unit}" : string.Empty;
                var met = f.Met switch { true => "met", false => "**missed**", null => string.Empty };
                s.AppendLine(CultureInfo.InvariantCulture, $"| {f.Scenario} | {f.Name.Trim()} | {value} | {target} | {met} |");
            }
        }

        return s.ToString();
    }
}

using System.Globalization;
using System.Text;
using Orchestrator.Abstractions;

namespace Orchestrator.Grains.Orchestration;

/// <summary>The readable status table printed to the log: counts by status, then every bot that is not running.</summary>
public static class StatusTable
{
    /// <summary>
    /// Formats the table from the bots' own <paramref name="reports"/> plus <paramref name="reportedRunning"/> bots known
    /// to run from their silos' reports. Reports carry no secrets, so neither does the table.
    /// </summary>
    public static string Format(IReadOnlyCollection<BotStatusReport> reports, int desired, int unreachable, int reportedRunning = 0)
    {
        var text = new StringBuilder();
        var counts = Enum.GetValues<BotStatus>()
            .Select(status => $"{status.ToString().ToLowerInvariant()} {reports.Count(r => r.Status == status) + (status == BotStatus.Running ? reportedRunning : 0)}");
        text.Append(CultureInfo.InvariantCulture, $"Bots: {desired} desired | {string.Join(" | ", counts)}");
        if (unreachable > 0)
        {
            text.Append(CultureInfo.InvariantCulture, $" | unreachable {unreachable}");
        }

        var notRunning = reports.Where(r => r.Status != BotStatus.Running).OrderBy(r => r.ReplicaUuid, StringComparer.Ordinal).ToList();
        if (notRunning.Count == 0)
        {
            return text.ToString();
        }

        text.AppendLine();
        text.Append(CultureInfo.InvariantCulture, $"  {"replicaUUID",-36}  {"slug",-24}  {"status",-10}  {"since",-20}  last error");
        foreach (var report in notRunning.Take(50))
        {
            text.AppendLine();
            var since = report.StatusSince?.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture) ?? "-";
            text.Append(CultureInfo.InvariantCulture, $"  {report.ReplicaUuid,-36}  {Clip(report.ReplicaSlug, 24),-24}  {report.Status.ToString().ToLowerInvariant(),-10}  {since,-20}  {report.LastError ?? "-"}");
        }

        if (notRunning.Count > 50)
        {
            text.AppendLine();
            text.Append(CultureInfo.InvariantCulture, $"  … and {notRunning.Count - 50} more");
        }

        return text.ToString();
    }

    private static string Clip(string value, int length) => value.Length <= length ? value : string.Concat(value.AsSpan(0, length - 1), "…");
}

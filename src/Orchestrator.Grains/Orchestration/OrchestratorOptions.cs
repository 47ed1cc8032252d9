namespace Orchestrator.Grains.Orchestration;

/// <summary>Cadences of the <see cref="OrchestratorGrain"/>. Bound by the host from the SPEC §3 environment variables.</summary>
public sealed class OrchestratorOptions
{
    /// <summary>Period of the upstream reload (<c>RELOAD_BOTS_INTERVAL_MS</c>, default 5 min).</summary>
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Period of the status table in the log (<c>PRINT_BOTS_STATUS_INTERVAL_MS</c>, default 1 min).</summary>
    public TimeSpan PrintStatusInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Only replicas whose <c>telegram_integration.service_name</c> equals this run here (<c>TELEGRAM_SERVICE_NAME</c>).</summary>
    public string TelegramServiceName { get; set; } = "sensay-telegram-integrations";

    /// <summary>How many bots are started or stopped concurrently during a reload (default 64).</summary>
    public int ApplyConcurrency { get; set; } = 64;

    /// <summary>Upper bound of one reload's upstream loading (default 2 min).</summary>
    public TimeSpan ReloadTimeout { get; set; } = TimeSpan.FromMinutes(2);
}

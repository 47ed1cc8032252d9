using Orleans.Concurrency;

namespace Orchestrator.Abstractions;

/// <summary>
/// One Telegram bot, keyed by its replicaUUID. Owns the bot's definition and persisted progress and hosts its
/// long-poll loop. Callers are the <see cref="IOrchestratorGrain"/> (the desired set) and the REST API (status).
/// </summary>
public interface IBotGrain : IGrainWithStringKey
{
    /// <summary>
    /// Makes the bot run with <paramref name="definition"/>. Restarts the loop only when the definition changed
    /// (the old loop is stopped before the new one starts), and revives a failed bot with a fresh counter.
    /// Returns at once; the start itself (getMe, deleteWebhook, first poll) proceeds in the background.
    /// </summary>
    /// <returns>True when the loop was (re)started; false when it was already running with this definition.</returns>
    Task<bool> ApplyAsync(BotDefinition definition);

    /// <summary>Stops the loop (in-flight replies may finish within the graceful timeout) and forgets the bot.</summary>
    Task RemoveAsync();

    /// <summary>The bot's status; null when the bot is not defined.</summary>
    Task<BotStatusReport?> GetStatusAsync();

    /// <summary>
    /// The supervisor's periodic check. Activates the bot if its silo died, adopts <paramref name="expected"/> if the
    /// bot does not run it, and replaces a loop that died or hangs (counted as a failed restart). Never revives a
    /// failed bot with an unchanged definition.
    /// </summary>
    Task<BotStatus> CheckHealthAsync(BotDefinition expected);

    /// <summary>
    /// Called by this activation's own silo as it begins to shut down, before it leaves the cluster: stops the loop
    /// (in-flight replies may finish within the graceful timeout, the offset is persisted and confirmed) and starts none
    /// here again. The bot runs again once activated on another silo, and never polls from both.
    /// </summary>
    Task HandOverAsync();
}

/// <summary>Outcome of <see cref="IOrchestratorGrain.CreateBotAsync"/>.</summary>
[GenerateSerializer]
public enum CreateBotResult
{
    Created = 0,
    AlreadyExists = 1,
}

/// <summary>Outcome of <see cref="IOrchestratorGrain.UpdateBotAsync"/>.</summary>
[GenerateSerializer]
public enum UpdateBotResult
{
    /// <summary>The bot existed and changed (or was revived); it restarts.</summary>
    Updated = 0,

    /// <summary>The bot existed and nothing changed; it keeps running untouched.</summary>
    Unchanged = 1,

    /// <summary>The bot did not exist and the patch carried a token and a slug: it was created.</summary>
    Created = 2,

    /// <summary>The bot did not exist and the patch carried no token.</summary>
    NotFound = 3,

    /// <summary>The bot did not exist and the patch carried a token but no slug.</summary>
    SlugRequired = 4,
}

/// <summary>
/// The cluster's single coordinator (key <see cref="GrainKeys.Orchestrator"/>): holds the desired set of bots,
/// applies REST changes at once, and reconciles with the Sensay API on its own cadence.
/// </summary>
public interface IOrchestratorGrain : IGrainWithStringKey
{
    /// <summary>Activates the grain and its timers; every silo calls it at start.</summary>
    Task EnsureStartedAsync();

    Task<CreateBotResult> CreateBotAsync(BotDefinition definition);

    Task<UpdateBotResult> UpdateBotAsync(string replicaUuid, BotPatch patch);

    /// <summary>Stops and forgets the bot; false when it was unknown.</summary>
    Task<bool> DeleteBotAsync(string replicaUuid);

    /// <summary>The replicaUUIDs of the desired set.</summary>
    Task<string[]> GetBotIdsAsync();

    /// <summary>
    /// The replicaUUIDs of the desired bots that no active silo reported running, with their desired definition, in
    /// its latest report (<see cref="ReportHostedBotsAsync"/>, every health-check interval): every other desired bot
    /// was running as of its silo's report. Lets <c>/health</c> ask a handful of bots instead of every one.
    /// </summary>
    Task<string[]> GetBotIdsNotReportedRunningAsync();

    /// <summary>
    /// A silo reports its healthy bots (every health-check interval; it also wakes the grain). Only stores the report,
    /// so it interleaves with everything.
    /// </summary>
    [AlwaysInterleave]
    Task ReportHostedBotsAsync(HostedBotsReport report);

    /// <summary>
    /// Reloads the desired set from upstream now (it also runs on its own cadence); waits for a reload in progress
    /// first. Interleaves with the other calls, like the timer's reload, so a slow upstream never holds up REST
    /// changes.
    /// </summary>
    [AlwaysInterleave]
    Task<ReloadReport> ReloadAsync();
}

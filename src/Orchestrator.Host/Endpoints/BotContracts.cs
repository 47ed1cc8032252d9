using System.Text.Json.Serialization;
using Orchestrator.Abstractions;

namespace Orchestrator.Host.Endpoints;

/// <summary>Body of <c>POST /bots</c>. Every member is optional on the wire so a missing one is a 400 with a clear message.</summary>
/// <param name="ReplicaUuid">The replica's id (a UUID in production); the bot's key.</param>
/// <param name="ReplicaSlug">The replica's slug (required).</param>
/// <param name="OwnerUuid">The replica owner's id (optional).</param>
/// <param name="Token">The Telegram bot token from BotFather, <c>&lt;digits&gt;:&lt;secret&gt;</c> (required, never echoed).</param>
public sealed record CreateBotRequest(
    [property: JsonPropertyName("replicaUUID")] string? ReplicaUuid,
    [property: JsonPropertyName("replicaSlug")] string? ReplicaSlug,
    [property: JsonPropertyName("ownerUUID")] string? OwnerUuid,
    [property: JsonPropertyName("token")] string? Token)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"CreateBotRequest {{ ReplicaUuid = {ReplicaUuid}, ReplicaSlug = {ReplicaSlug}, OwnerUuid = {OwnerUuid}, Token = {(Token is null ? "null" : "***")} }}";
}

/// <summary>Body of <c>PUT /bots/{replicaUUID}</c>: only the members given change. A token (and a slug) creates an unknown bot.</summary>
/// <param name="ReplicaUuid">Optional; when given it must equal the path's replicaUUID.</param>
/// <param name="ReplicaSlug">New slug (non-empty when given).</param>
/// <param name="OwnerUuid">New owner id.</param>
/// <param name="Token">New Telegram bot token (never echoed).</param>
public sealed record UpdateBotRequest(
    [property: JsonPropertyName("replicaUUID")] string? ReplicaUuid,
    [property: JsonPropertyName("replicaSlug")] string? ReplicaSlug,
    [property: JsonPropertyName("ownerUUID")] string? OwnerUuid,
    [property: JsonPropertyName("token")] string? Token)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"UpdateBotRequest {{ ReplicaUuid = {ReplicaUuid}, ReplicaSlug = {ReplicaSlug}, OwnerUuid = {OwnerUuid}, Token = {(Token is null ? "null" : "***")} }}";
}

/// <summary>A bot as the API describes it after a create: never the token.</summary>
public sealed record BotResponse(
    [property: JsonPropertyName("replicaUUID")] string ReplicaUuid,
    [property: JsonPropertyName("replicaSlug")] string ReplicaSlug,
    [property: JsonPropertyName("ownerUUID")] string? OwnerUuid);

/// <summary>One bot in <c>GET /status</c>. Never contains the token.</summary>
public sealed record BotStatusResponse
{
    [JsonPropertyName("replicaUUID")] public required string ReplicaUuid { get; init; }
    public required string ReplicaSlug { get; init; }
    [JsonPropertyName("ownerUUID")] public string? OwnerUuid { get; init; }
    /// <summary>running, unhealthy, stopped, restarting or failed.</summary>
    public required BotStatus Status { get; init; }
    public DateTimeOffset? StatusSince { get; init; }
    /// <summary>The silo hosting the bot.</summary>
    public string? Silo { get; init; }
    public string? BotUsername { get; init; }
    public int Restarts { get; init; }
    public int ConsecutiveFailures { get; init; }
    public string? LastError { get; init; }
    public DateTimeOffset? LastErrorAt { get; init; }
    /// <summary>End of the last successful getUpdates round trip.</summary>
    public DateTimeOffset? LastPollAt { get; init; }
    public long UpdatesHandled { get; init; }
    /// <summary>Telegram 409 answers seen (another poller on the token).</summary>
    public long Conflicts { get; init; }
    public DateTimeOffset? NextRestartAt { get; init; }

    /// <summary>Maps a grain's report.</summary>
    public static BotStatusResponse From(BotStatusReport report) => new()
    {
        ReplicaUuid = report.ReplicaUuid,
        ReplicaSlug = report.ReplicaSlug,
        OwnerUuid = report.OwnerUuid,
        Status = report.Status,
        StatusSince = report.StatusSince,
        Silo = report.Silo,
        BotUsername = report.BotUsername,
        Restarts = report.Restarts,
        ConsecutiveFailures = report.ConsecutiveFailures,
        LastError = report.LastError,
        LastErrorAt = report.LastErrorAt,
        LastPollAt = report.LastPollAt,
        UpdatesHandled = report.UpdatesHandled,
        Conflicts = report.Conflicts,
        NextRestartAt = report.NextRestartAt,
    };
}

/// <summary>Body of <c>GET /health</c>.</summary>
/// <param name="Status"><c>healthy</c> when every desired bot is running, else <c>unhealthy</c>.</param>
/// <param name="Uptime">Seconds since the process started.</param>
public sealed record HealthResponse(string Status, double Uptime);

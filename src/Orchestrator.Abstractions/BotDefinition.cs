namespace Orchestrator.Abstractions;

/// <summary>
/// What a bot is: the replica it speaks for and the Telegram token it polls with.
/// The token is a secret: <see cref="ToString"/> never shows it, so a definition can be logged safely.
/// </summary>
/// <param name="ReplicaUuid">The Sensay replica's id; the bot grain's key.</param>
/// <param name="ReplicaSlug">The replica's slug (non-empty).</param>
/// <param name="OwnerUuid">The replica owner's id, when known.</param>
/// <param name="Token">The Telegram bot token, <c>&lt;digits&gt;:&lt;secret&gt;</c>.</param>
[GenerateSerializer, Immutable, Alias("orchestrator.bot-definition")]
public sealed record BotDefinition(
    [property: Id(0)] string ReplicaUuid,
    [property: Id(1)] string ReplicaSlug,
    [property: Id(2)] string? OwnerUuid,
    [property: Id(3)] string Token)
{
    /// <summary>The bot's numeric Telegram id: the digits before the colon of the token (not a secret).</summary>
    public long? TelegramBotId =>
        Token.IndexOf(':', StringComparison.Ordinal) is > 0 and var colon
        && long.TryParse(Token.AsSpan(0, colon), out var id) ? id : null;

    /// <inheritdoc />
    public override string ToString() =>
        $"BotDefinition {{ ReplicaUuid = {ReplicaUuid}, ReplicaSlug = {ReplicaSlug}, OwnerUuid = {OwnerUuid}, Token = *** }}";
}

/// <summary>A partial update of a bot (PUT /bots/{replicaUUID}); null members keep their current value.</summary>
[GenerateSerializer, Immutable, Alias("orchestrator.bot-patch")]
public sealed record BotPatch(
    [property: Id(0)] string? ReplicaSlug,
    [property: Id(1)] string? OwnerUuid,
    [property: Id(2)] string? Token)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"BotPatch {{ ReplicaSlug = {ReplicaSlug}, OwnerUuid = {OwnerUuid}, Token = {(Token is null ? "null" : "***")} }}";
}

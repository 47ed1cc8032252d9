namespace Orchestrator.Sensay;

/// <summary>A replica as the Orchestrator sees it. <see cref="ToString"/> never shows the token.</summary>
/// <param name="Uuid">The replica id.</param>
/// <param name="Slug">The replica slug (empty when Sensay sent none).</param>
/// <param name="OwnerUuid">The owner id, when present.</param>
/// <param name="TelegramToken">The bot token, when the replica has a Telegram integration with a token.</param>
/// <param name="TelegramServiceName">The integration's <c>service_name</c>, when present.</param>
public sealed record SensayReplica(string Uuid, string Slug, string? OwnerUuid, string? TelegramToken, string? TelegramServiceName)
{
    /// <inheritdoc />
    public override string ToString() =>
        $"SensayReplica {{ Uuid = {Uuid}, Slug = {Slug}, OwnerUuid = {OwnerUuid}, TelegramToken = {(TelegramToken is null ? "null" : "***")}, TelegramServiceName = {TelegramServiceName} }}";
}

/// <summary>One page of <c>GET /v1/replicas</c>; <see cref="Total"/> counts all items across pages.</summary>
public sealed record ReplicaPage(IReadOnlyList<SensayReplica> Items, int Total);

/// <summary>The <c>telegram_data</c> of a completion or history call.</summary>
/// <param name="ChatType"><c>private</c>, <c>group</c>, <c>supergroup</c> or <c>channel</c>.</param>
/// <param name="ChatId">The chat id.</param>
/// <param name="ChatName">Group title, or the user's first name in a private chat.</param>
/// <param name="UserId">The Telegram user id.</param>
/// <param name="Username">The Telegram username, if any.</param>
/// <param name="MessageId">The incoming message id.</param>
/// <param name="MessageThreadId">The forum topic id, only for topic messages.</param>
public sealed record TelegramChatContext(
    string ChatType,
    long ChatId,
    string? ChatName,
    long UserId,
    string? Username,
    int MessageId,
    int? MessageThreadId);

namespace Orchestrator.Sensay;

/// <summary>The part of the Sensay API the Orchestrator uses (see <c>sensay-api.md</c>). Failures throw <see cref="SensayApiException"/>.</summary>
public interface ISensayClient
{
    /// <summary><c>GET /v1/replicas?integration=telegram&amp;page=&amp;page_size=</c>; <paramref name="page"/> starts at 1, <paramref name="pageSize"/> ≤ 100.</summary>
    Task<ReplicaPage> GetReplicasPageAsync(int page, int pageSize, CancellationToken cancellationToken = default);

    /// <summary>The replica's answer to <paramref name="content"/>; never empty (an empty answer throws).</summary>
    Task<string> GetCompletionAsync(string replicaUuid, TelegramChatContext context, string content, string? imageUrl, CancellationToken cancellationToken = default);

    /// <summary>Stores a group message that needs no answer in the replica's chat history.</summary>
    Task SaveChatHistoryAsync(string replicaUuid, TelegramChatContext context, string content, CancellationToken cancellationToken = default);

    /// <summary>Makes sure the Telegram user exists in Sensay (created if unknown); remembered, so it runs once per user.</summary>
    Task EnsureUserAsync(long telegramUserId, CancellationToken cancellationToken = default);

    /// <summary>Whether the replica's Telegram plan is active. Always true when the licence check is not configured.</summary>
    Task<bool> IsLicenseValidAsync(string replicaUuid, CancellationToken cancellationToken = default);
}

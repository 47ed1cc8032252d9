using System.Text.Json;
using System.Text.Json.Serialization;

namespace Orchestrator.Sensay;

internal sealed class ReplicaListDto
{
    [JsonPropertyName("items")]
    public List<ReplicaDto?>? Items { get; set; }

    [JsonPropertyName("total")]
    public int? Total { get; set; }
}

internal sealed class ReplicaDto
{
    [JsonPropertyName("uuid")]
    public string? Uuid { get; set; }

    [JsonPropertyName("slug")]
    public string? Slug { get; set; }

    [JsonPropertyName("owner_uuid")]
    public string? OwnerUuid { get; set; }

    [JsonPropertyName("telegram_integration")]
    public TelegramIntegrationDto? TelegramIntegration { get; set; }
}

internal sealed class TelegramIntegrationDto
{
    [JsonPropertyName("token")]
    public string? Token { get; set; }

    [JsonPropertyName("service_name")]
    public string? ServiceName { get; set; }
}

internal sealed record CompletionRequestDto(
    [property: JsonPropertyName("content")] string Content,
    [property: JsonPropertyName("skip_chat_history")] bool SkipChatHistory,
    [property: JsonPropertyName("imageURL")] string? ImageUrl,
    [property: JsonPropertyName("telegram_data")] TelegramDataDto TelegramData);

internal sealed record HistoryRequestDto(
    [property: JsonPropertyName("content")] string Content,
    [property: JsonPropertyName("telegram_data")] TelegramDataDto TelegramData);

internal sealed record TelegramDataDto(
    [property: JsonPropertyName("chat_type")] string ChatType,
    [property: JsonPropertyName("chat_id")] long ChatId,
    [property: JsonPropertyName("chat_name")] string? ChatName,
    [property: JsonPropertyName("user_id")] long UserId,
    [property: JsonPropertyName("username")] string? Username,
    [property: JsonPropertyName("message_id")] int MessageId,
    [property: JsonPropertyName("message_thread_id")] int? MessageThreadId)
{
    public static TelegramDataDto From(TelegramChatContext c) =>
        new(c.ChatType, c.ChatId, c.ChatName, c.UserId, c.Username, c.MessageId, c.MessageThreadId);
}

internal sealed class CompletionResponseDto
{
    [JsonPropertyName("success")]
    public bool? Success { get; set; }

    [JsonPropertyName("content")]
    public string? Content { get; set; }
}

internal sealed class ErrorDto
{
    [JsonPropertyName("error")]
    public JsonElement Error { get; set; }

    [JsonPropertyName("request_id")]
    public string? RequestId { get; set; }
}

internal sealed record CreateUserRequestDto(
    [property: JsonPropertyName("linkedAccounts")] IReadOnlyList<LinkedAccountDto> LinkedAccounts);

internal sealed record LinkedAccountDto(
    [property: JsonPropertyName("accountID")] string AccountId,
    [property: JsonPropertyName("accountType")] string AccountType);

internal sealed class LicenseResponseDto
{
    [JsonPropertyName("valid")]
    public bool? Valid { get; set; }
}

using System.Text.Json.Nodes;

namespace Orchestrator.Fakes.Sensay;

/// <summary>A replica served by <c>GET /v1/replicas</c>. <see cref="HasTelegramIntegration"/> false gives <c>"telegram_integration": null</c>.</summary>
public sealed record FakeReplica(
    string Uuid,
    string Slug,
    string? TelegramToken,
    string? OwnerUuid = "owner-0001",
    string? ServiceName = FakeReplica.DefaultServiceName,
    bool HasTelegramIntegration = true,
    string? Name = null)
{
    /// <summary>The service name the Orchestrator runs by default.</summary>
    public const string DefaultServiceName = "sensay-telegram-integrations";
}

/// <summary>The <c>telegram_data</c> of a completion or history request.</summary>
public sealed record TelegramData(string? ChatType, long? ChatId, string? ChatName, long? UserId, string? Username, long? MessageId, long? MessageThreadId);

/// <summary>A chat completion request as received.</summary>
public sealed record CompletionRequest(
    string ReplicaUuid,
    string Content,
    bool SkipChatHistory,
    string? ImageUrl,
    TelegramData? TelegramData,
    string? UserId,
    string? UserIdType,
    JsonObject Body);

/// <summary>A chat history request as received.</summary>
public sealed record HistoryRequest(string ReplicaUuid, string Content, TelegramData? TelegramData, string? UserId, JsonObject Body);

/// <summary>Any request received by the fake Sensay API.</summary>
public sealed record RecordedRequest(
    long Sequence,
    DateTimeOffset Time,
    SensayRoute Route,
    string Method,
    string PathAndQuery,
    IReadOnlyDictionary<string, string> Headers,
    string Body);

/// <summary>Route kinds for fault injection.</summary>
public enum SensayRoute
{
    /// <summary>Any route.</summary>
    Any,

    /// <summary><c>GET /v1/replicas</c>.</summary>
    ReplicaList,

    /// <summary><c>POST /v1/replicas/{uuid}/chat/completions/telegram</c>.</summary>
    Completion,

    /// <summary><c>POST /v1/replicas/{uuid}/chat/history/telegram</c>.</summary>
    History,

    /// <summary><c>GET /v1/users/me</c> and <c>POST /v1/users</c>.</summary>
    Users,

    /// <summary><c>GET /api/license/telegram/{uuid}</c>: the licence service, when <see cref="FakeSensayOptions.LicenseSecretKey"/> is set.</summary>
    License,

    /// <summary>Anything else (answered 404).</summary>
    Other,
}

/// <summary>
/// A fault for the next matching requests. Effects in order: <see cref="Delay"/>, <see cref="Hang"/>, then one of
/// <see cref="StatusCode"/> (Sensay error body), <see cref="MalformedJson"/>, <see cref="EmptyContent"/> (completion) or
/// <see cref="TotalDelta"/> (replica list); a fault with only a delay lets the request proceed.
/// </summary>
public sealed record SensayFault
{
    /// <summary>Answer with this status and <c>{"success":false,"error":…}</c>.</summary>
    public int? StatusCode { get; init; }

    /// <summary>The error text (default: a text for the status).</summary>
    public string? Error { get; init; }

    /// <summary>Wait this long first.</summary>
    public TimeSpan Delay { get; init; }

    /// <summary>Never answer until the client gives up or the fake is disposed.</summary>
    public bool Hang { get; init; }

    /// <summary>200 with a truncated JSON body.</summary>
    public bool MalformedJson { get; init; }

    /// <summary>Completion: 200 <c>{"success":true,"content":""}</c>.</summary>
    public bool EmptyContent { get; init; }

    /// <summary>Replica list: report <c>total</c> off by this much (a list that changes between pages).</summary>
    public int TotalDelta { get; init; }

    /// <summary>Replica list: apply only to this page (e.g. page 2 → 500).</summary>
    public int? Page { get; init; }

    /// <summary>Apply to this many matching requests (default 1); <see cref="int.MaxValue"/>: until cleared.</summary>
    public int Times { get; init; } = 1;

    /// <summary>Until <see cref="FakeSensayApi.ClearFaults"/>.</summary>
    public const int UntilCleared = int.MaxValue;
}

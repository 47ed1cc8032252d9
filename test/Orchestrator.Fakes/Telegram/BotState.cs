using System.Text.Json.Nodes;

namespace Orchestrator.Fakes.Telegram;

/// <summary>State of one token. Guarded by the emulator's lock.</summary>
internal sealed class BotState(string token, long id, string username, string firstName, int firstUpdateId)
{
    public string Token { get; } = token;

    public long Id { get; } = id;

    public string Username { get; set; } = username;

    public string FirstName { get; set; } = firstName;

    public bool Revoked { get; set; }

    public int NextUpdateId { get; set; } = firstUpdateId;

    /// <summary>Updates not yet confirmed, oldest first, serialized once when queued (UTF-8 JSON).</summary>
    public List<(int UpdateId, byte[] Json)> Updates { get; } = [];

    /// <summary>Updates with an id below this were confirmed (or dropped by a negative offset).</summary>
    public int ConfirmedOffset { get; set; }

    public HashSet<string>? AllowedUpdates { get; set; }

    public PendingPoll? PendingPoll { get; set; }

    public int ConflictCount { get; set; }

    public Dictionary<long, ChatState> Chats { get; } = [];

    public Dictionary<string, (string UniqueId, string Path)> Files { get; } = new(StringComparer.Ordinal);

    public int NextFileNumber { get; set; } = 1;

    public List<SentMessage> Sent { get; } = [];

    public List<ChatActionRecord> Actions { get; } = [];

    public List<PostedUpdate> Posted { get; } = [];

    public List<FaultEntry> Faults { get; } = [];

    public Dictionary<string, int> CallCounts { get; } = new(StringComparer.OrdinalIgnoreCase);

    public JsonObject UserJson() => new()
    {
        ["id"] = Id,
        ["is_bot"] = true,
        ["first_name"] = FirstName,
        ["username"] = Username,
    };
}

/// <summary>A chat as seen by one bot: its messages (for replies) and topics.</summary>
internal sealed class ChatState(JsonObject chat)
{
    public JsonObject Chat { get; set; } = chat;

    public int NextMessageId { get; set; } = 1;

    public Dictionary<int, JsonObject> Messages { get; } = [];

    public HashSet<int> Threads { get; } = [];

    public bool IsForum => Chat["is_forum"]?.GetValue<bool>() == true;
}

/// <summary>A pending getUpdates long poll, woken by a new update or ended by a newer poll.</summary>
internal sealed class PendingPoll
{
    public long StartedAt { get; } = System.Diagnostics.Stopwatch.GetTimestamp();

    public TaskCompletionSource<PollWake> Wake { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
}

internal enum PollWake
{
    NewUpdate,
    Conflict,
    Revoked,
}

/// <summary>A queued fault and how many more calls it applies to.</summary>
internal sealed class FaultEntry(string? method, TelegramFault fault)
{
    public string? Method { get; } = method;

    public TelegramFault Fault { get; } = fault;

    public int Remaining { get; set; } = fault.Times;
}

using System.Text.Json.Nodes;

namespace Orchestrator.Fakes.Telegram;

/// <summary>A Telegram user as the emulator puts it into updates.</summary>
public sealed record TelegramUser(long Id, string FirstName, string? Username = null, bool IsBot = false, string? LastName = null)
{
    /// <summary>Alice (id 42, @alice).</summary>
    public static TelegramUser Alice { get; } = new(42, "Alice", "alice");

    /// <summary>Bob (id 43, @bob).</summary>
    public static TelegramUser Bob { get; } = new(43, "Bob", "bob");

    /// <summary>Another bot (id 777, @other_helper_bot, is_bot=true).</summary>
    public static TelegramUser OtherBot { get; } = new(777, "Other helper", "other_helper_bot", IsBot: true);
}

/// <summary>A chat as the emulator puts it into updates. <see cref="Type"/> is private, group, supergroup or channel.</summary>
public sealed record TelegramChat(long Id, string Type, string? Title = null, bool IsForum = false, string? FirstName = null, string? Username = null)
{
    /// <summary>The private chat with <paramref name="user"/> (chat id = user id).</summary>
    public static TelegramChat PrivateWith(TelegramUser user) => new(user.Id, "private", FirstName: user.FirstName, Username: user.Username);

    /// <summary>A basic group.</summary>
    public static TelegramChat Group(long id = -4001, string title = "Test group") => new(id, "group", title);

    /// <summary>A supergroup, optionally a forum (topics).</summary>
    public static TelegramChat Supergroup(long id = -1001000000001, string title = "Test supergroup", bool isForum = false) =>
        new(id, "supergroup", title, isForum);
}

/// <summary>A <c>text_mention</c> entity (a mention of a user without a username) at a UTF-16 offset.</summary>
public sealed record TextMention(int Offset, int Length, TelegramUser User);

/// <summary>
/// A message a user sends to a bot. <c>mention</c> (<c>@name</c>) and <c>bot_command</c> entities are computed from the text
/// or caption like Telegram does; <c>text_mention</c> entities come from <see cref="TextMentions"/>.
/// </summary>
public sealed record UserMessage
{
    /// <summary>The chat; null: the private chat with <see cref="From"/>.</summary>
    public TelegramChat? Chat { get; init; }

    /// <summary>The sender (default Alice).</summary>
    public TelegramUser From { get; init; } = TelegramUser.Alice;

    /// <summary>The text (null for photos and service messages).</summary>
    public string? Text { get; init; }

    /// <summary>A topic (forum chats: <c>is_topic_message</c>) or reply thread id.</summary>
    public int? ThreadId { get; init; }

    /// <summary>The message (of the bot or a user, in the same chat) this one replies to; it must exist in the emulator.</summary>
    public int? ReplyToMessageId { get; init; }

    /// <summary>Send a photo (three PhotoSizes whose file ids getFile resolves).</summary>
    public bool Photo { get; init; }

    /// <summary>The photo's caption.</summary>
    public string? Caption { get; init; }

    /// <summary><c>text_mention</c> entities of the text (or caption).</summary>
    public IReadOnlyList<TextMention> TextMentions { get; init; } = [];

    /// <summary>Service message: members joined (no text).</summary>
    public IReadOnlyList<TelegramUser> NewChatMembers { get; init; } = [];
}

/// <summary>What the emulator assigned to a message pushed into a bot's update queue.</summary>
public sealed record PostedUpdate(long Sequence, int UpdateId, int MessageId, long ChatId, string? Text, DateTimeOffset Time);

/// <summary>A message a bot sent with sendMessage.</summary>
public sealed record SentMessage(
    long Sequence,
    long BotId,
    long ChatId,
    int MessageId,
    string Text,
    int? MessageThreadId,
    int? ReplyToMessageId,
    string? ParseMode,
    DateTimeOffset Time,
    JsonObject Parameters);

/// <summary>A sendChatAction a bot made.</summary>
public sealed record ChatActionRecord(long Sequence, long BotId, long ChatId, string Action, int? MessageThreadId, DateTimeOffset Time);

/// <summary>One Bot API call as received: canonical method name (e.g. "getUpdates") and parsed parameters.</summary>
public sealed record BotApiCall(long Sequence, DateTimeOffset Time, string Token, string Method, JsonObject Parameters)
{
    /// <summary>An integer parameter, sent as a JSON number or as a query or form string, as Telegram reads it.</summary>
    public long? Long(string name) => BotApiParameters.GetLong(Parameters, name);

    /// <summary>Hides the token.</summary>
    public override string ToString() => $"#{Sequence} {Method} {Parameters.ToJsonString()}";
}

/// <summary>Identity of an emulated bot.</summary>
public sealed record EmulatedBotInfo(long Id, string FirstName, string Username, bool Revoked);

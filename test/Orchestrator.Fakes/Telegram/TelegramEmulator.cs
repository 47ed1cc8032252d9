using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Orchestrator.Fakes.Telegram;

/// <summary>
/// An in-process Telegram Bot API server for tests and local demos: Kestrel on 127.0.0.1 speaking the Bot API wire format
/// (<c>/bot{token}/{method}</c>, <c>{"ok":…}</c> envelopes, real getUpdates long polling with offsets and 409 conflicts),
/// with a test side to post user messages, await what bots did, and inject faults. Thread-safe.
/// </summary>
public sealed partial class TelegramEmulator : IAsyncDisposable
{
    private static readonly TimeSpan DefaultWaitTimeout = TimeSpan.FromSeconds(10);

    private readonly Lock _sync = new();
    private readonly ConditionWaiters _waiters;
    private readonly Dictionary<string, BotState> _bots = new(StringComparer.Ordinal);
    private readonly List<BotApiCall> _calls = [];
    private readonly Dictionary<string, long> _methodCounts = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _shutdown = new();
    private readonly TelegramEmulatorOptions _options;
    private WebApplication? _app;
    private long _sequence;
    private int _conflictCount;
    private int _disposed;

    private TelegramEmulator(TelegramEmulatorOptions options)
    {
        _options = options;
        _waiters = new ConditionWaiters(_sync);
    }

    /// <summary>Base URL to give Telegram.Bot (<c>TelegramBotClientOptions.BaseUrl</c>) and to open in a browser, e.g. <c>http://127.0.0.1:51234/</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The HTTPS base URL (HTTP/1.1 and HTTP/2) when <see cref="TelegramEmulatorOptions.HttpsPort"/> is set, e.g. <c>https://127.0.0.1:51235/</c>.</summary>
    public Uri? HttpsBaseUrl { get; private set; }

    /// <summary>getUpdates long polls waiting right now, all tokens.</summary>
    public int PendingPollTotal
    {
        get
        {
            lock (_sync)
            {
                var count = 0;
                foreach (var bot in _bots.Values)
                {
                    count += bot.PendingPoll is null ? 0 : 1;
                }

                return count;
            }
        }
    }

    /// <summary>How many of <paramref name="tokens"/> have a pending long poll that started at or after <paramref name="sinceTimestamp"/> (a <see cref="System.Diagnostics.Stopwatch"/> timestamp).</summary>
    public int PendingPollsSince(IEnumerable<string> tokens, long sinceTimestamp)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        lock (_sync)
        {
            return tokens.Count(t => _bots.TryGetValue(t, out var bot) && bot.PendingPoll is { } poll && poll.StartedAt >= sinceTimestamp);
        }
    }

    /// <summary>Bot API calls received so far, by method, all tokens (also counted with <see cref="TelegramEmulatorOptions.RecordHistory"/> off).</summary>
    public IReadOnlyDictionary<string, long> MethodCounts
    {
        get
        {
            lock (_sync)
            {
                return new Dictionary<string, long>(_methodCounts, StringComparer.Ordinal);
            }
        }
    }

    /// <summary>The options; realism flags may be changed while running.</summary>
    public TelegramEmulatorOptions Options => _options;

    /// <summary>Conflicts (409 "terminated by other getUpdates request") answered so far, all tokens. Injected 409 faults are not counted.</summary>
    public int ConflictCount
    {
        get
        {
            lock (_sync)
            {
                return _conflictCount;
            }
        }
    }

    /// <summary>Starts the emulator on 127.0.0.1 (<see cref="TelegramEmulatorOptions.Port"/>, 0 = any free port).</summary>
    public static async Task<TelegramEmulator> StartAsync(TelegramEmulatorOptions? options = null, CancellationToken cancellationToken = default)
    {
        var emulator = new TelegramEmulator(options ?? new TelegramEmulatorOptions());
        var o = emulator._options;
        if (o.HttpsPort is not null)
        {
            o.Certificate ??= SelfSignedCertificate.Create();
        }

        var app = FakeHost.CreateBuilder(o.Port, o.LogWarningsToConsole, o.HttpsPort, o.Certificate).Build();
        emulator.MapBotApi(app);
        emulator.MapUserApi(app);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        emulator._app = app;
        emulator.BaseUrl = FakeHost.GetBaseUrl(app);
        emulator.HttpsBaseUrl = FakeHost.GetBaseUrl(app, Uri.UriSchemeHttps);
        return emulator;
    }

    /// <summary>Stops promptly: pending long polls and hung requests are aborted, waiters fail with <see cref="ObjectDisposedException"/>.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _shutdown.CancelAsync().ConfigureAwait(false);
        lock (_sync)
        {
            _waiters.Dispose(nameof(TelegramEmulator));
        }

        if (_app is not null)
        {
            await FakeHost.StopAsync(_app).ConfigureAwait(false);
        }
    }

    // ---------------------------------------------------------------- bots

    /// <summary>Registers (or re-enables) a token with an identity. Default username <c>bot&lt;id&gt;_bot</c>.</summary>
    public EmulatedBotInfo AddBot(string token, string? username = null, string? firstName = null)
    {
        var id = ParseBotId(token) ?? throw new ArgumentException("A bot token looks like <digits>:<secret>.", nameof(token));
        lock (_sync)
        {
            if (!_bots.TryGetValue(token, out var bot))
            {
                bot = NewBot(token, id);
                _bots[token] = bot;
            }

            bot.Revoked = false;
            bot.Username = username ?? bot.Username;
            bot.FirstName = firstName ?? bot.FirstName;
            _waiters.Notify();
            return Info(bot);
        }
    }

    /// <summary>Makes the token answer 401 Unauthorized from now on (a pending long poll ends with 401 too).</summary>
    public void RevokeToken(string token)
    {
        lock (_sync)
        {
            if (!_bots.TryGetValue(token, out var bot))
            {
                var id = ParseBotId(token) ?? throw new ArgumentException("A bot token looks like <digits>:<secret>.", nameof(token));
                bot = NewBot(token, id);
                _bots[token] = bot;
            }

            bot.Revoked = true;
            bot.PendingPoll?.Wake.TrySetResult(PollWake.Revoked);
            _waiters.Notify();
        }
    }

    /// <summary>The bot of a token, or null when the emulator has not seen it.</summary>
    public EmulatedBotInfo? GetBot(string token)
    {
        lock (_sync)
        {
            return _bots.TryGetValue(token, out var bot) ? Info(bot) : null;
        }
    }

    /// <summary>All bots the emulator knows.</summary>
    public IReadOnlyList<EmulatedBotInfo> Bots
    {
        get
        {
            lock (_sync)
            {
                return [.. _bots.Values.Select(Info)];
            }
        }
    }

    // ---------------------------------------------------------------- faults

    /// <summary>Queues a fault for the next calls of <paramref name="method"/> (case-insensitive; null = any method) on a token.</summary>
    public void InjectFault(string token, string? method, TelegramFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        ArgumentOutOfRangeException.ThrowIfLessThan(fault.Times, 1);
        lock (_sync)
        {
            Require(token).Faults.Add(new FaultEntry(method, fault));
        }
    }

    /// <summary>Removes every queued fault of a token.</summary>
    public void ClearFaults(string token)
    {
        lock (_sync)
        {
            if (_bots.TryGetValue(token, out var bot))
            {
                bot.Faults.Clear();
            }
        }
    }

    // ---------------------------------------------------------------- inspection

    /// <summary>Messages the bot sent, oldest first.</summary>
    public IReadOnlyList<SentMessage> SentMessages(string token)
    {
        lock (_sync)
        {
            return _bots.TryGetValue(token, out var bot) ? [.. bot.Sent] : [];
        }
    }

    /// <summary>Chat actions the bot sent, oldest first.</summary>
    public IReadOnlyList<ChatActionRecord> ChatActions(string token)
    {
        lock (_sync)
        {
            return _bots.TryGetValue(token, out var bot) ? [.. bot.Actions] : [];
        }
    }

    /// <summary>User messages and raw updates posted to the bot, oldest first.</summary>
    public IReadOnlyList<PostedUpdate> PostedUpdates(string token)
    {
        lock (_sync)
        {
            return _bots.TryGetValue(token, out var bot) ? [.. bot.Posted] : [];
        }
    }

    /// <summary>Every Bot API call received (null token: all tokens), oldest first, including rejected ones.</summary>
    public IReadOnlyList<BotApiCall> Calls(string? token = null)
    {
        lock (_sync)
        {
            return [.. _calls.Where(c => token is null || c.Token == token)];
        }
    }

    /// <summary>How many times a token called a method (case-insensitive), including calls answered with errors or faults.</summary>
    public int CallCount(string token, string method)
    {
        lock (_sync)
        {
            return _calls.Count(c => c.Token == token && string.Equals(c.Method, method, StringComparison.OrdinalIgnoreCase));
        }
    }

    /// <summary>Updates with an id below this value were confirmed by an offset (0 before any confirmation).</summary>
    public int ConfirmedOffset(string token)
    {
        lock (_sync)
        {
            return _bots.TryGetValue(token, out var bot) ? bot.ConfirmedOffset : 0;
        }
    }

    /// <summary>True while the update is still stored (not confirmed, not dropped).</summary>
    public bool IsUnconfirmed(string token, int updateId)
    {
        lock (_sync)
        {
            return _bots.TryGetValue(token, out var bot) && bot.Updates.Exists(u => u.UpdateId == updateId);
        }
    }

    /// <summary>Updates stored and not yet confirmed.</summary>
    public int PendingUpdateCount(string token)
    {
        lock (_sync)
        {
            return _bots.TryGetValue(token, out var bot) ? bot.Updates.Count : 0;
        }
    }

    /// <summary>1 while a getUpdates long poll of this token is waiting, else 0.</summary>
    public int PendingPollCount(string token)
    {
        lock (_sync)
        {
            return _bots.TryGetValue(token, out var bot) && bot.PendingPoll is not null ? 1 : 0;
        }
    }

    /// <summary>Conflicts answered to this token's polls.</summary>
    public int ConflictCountFor(string token)
    {
        lock (_sync)
        {
            return _bots.TryGetValue(token, out var bot) ? bot.ConflictCount : 0;
        }
    }

    // ---------------------------------------------------------------- waiting (never sleeps)

    /// <summary>Completes with the first sent message (already sent or future) matching the predicate.</summary>
    public Task<SentMessage> WaitForSentMessageAsync(string token, Func<SentMessage, bool>? predicate = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var match = predicate ?? (_ => true);
        return WaitAsync(
            () => Find(token)?.Sent.Find(m => match(m)),
            timeout,
            () => $"a sendMessage from bot {BotIdOf(token)} matching the predicate. Sent so far ({Find(token)?.Sent.Count ?? 0}): " +
                  string.Join("; ", (Find(token)?.Sent ?? []).TakeLast(5).Select(m => $"[chat {m.ChatId}] \"{Shorten(m.Text)}\"")),
            cancellationToken);
    }

    /// <summary>Completes when at least <paramref name="count"/> sent messages match, with the first <paramref name="count"/> of them.</summary>
    public async Task<IReadOnlyList<SentMessage>> WaitForSentMessagesAsync(string token, int count, Func<SentMessage, bool>? predicate = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var match = predicate ?? (_ => true);
        var list = await WaitAsync(
            () => Find(token)?.Sent.Where(match).Take(count).ToList() is { } found && found.Count == count ? found : null,
            timeout,
            () => $"{count} sendMessage calls from bot {BotIdOf(token)} matching the predicate; {Find(token)?.Sent.Count(match) ?? 0} matched",
            cancellationToken).ConfigureAwait(false);
        return list;
    }

    /// <summary>Completes with the first chat action (already sent or future) matching the predicate.</summary>
    public Task<ChatActionRecord> WaitForChatActionAsync(string token, Func<ChatActionRecord, bool>? predicate = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var match = predicate ?? (_ => true);
        return WaitAsync(
            () => Find(token)?.Actions.Find(a => match(a)),
            timeout,
            () => $"a sendChatAction from bot {BotIdOf(token)} matching the predicate; {Find(token)?.Actions.Count ?? 0} actions so far",
            cancellationToken);
    }

    /// <summary>Completes with the first call of <paramref name="method"/> (already made or future) matching the predicate.</summary>
    public Task<BotApiCall> WaitForCallAsync(string token, string method, Func<BotApiCall, bool>? predicate = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var match = predicate ?? (_ => true);
        return WaitAsync(
            () => _calls.Find(c => c.Token == token && string.Equals(c.Method, method, StringComparison.OrdinalIgnoreCase) && match(c)),
            timeout,
            () => $"a {method} call from bot {BotIdOf(token)} matching the predicate; {_calls.Count(c => c.Token == token && string.Equals(c.Method, method, StringComparison.OrdinalIgnoreCase))} such calls so far",
            cancellationToken);
    }

    /// <summary>Completes when a getUpdates long poll of the token is pending (waiting for updates).</summary>
    public Task WaitForPendingPollAsync(string token, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        WaitAsync(
            () => Find(token)?.PendingPoll is not null ? (object)true : null,
            timeout,
            () => $"a pending getUpdates long poll of bot {BotIdOf(token)}",
            cancellationToken);

    /// <summary>Completes when the bot confirmed <paramref name="updateId"/> (a getUpdates with a higher offset).</summary>
    public Task WaitForConfirmedAsync(string token, int updateId, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        WaitAsync(
            () => Find(token) is { } bot && bot.ConfirmedOffset > updateId ? (object)true : null,
            timeout,
            () => $"bot {BotIdOf(token)} to confirm update {updateId}; confirmed offset is {Find(token)?.ConfirmedOffset ?? 0}",
            cancellationToken);

    /// <summary>Completes when <paramref name="condition"/> holds; it is re-evaluated after every change of the emulator's state.</summary>
    public Task WaitUntilAsync(Func<TelegramEmulator, bool> condition, string description, TimeSpan? timeout = null, CancellationToken cancellationToken = default) =>
        WaitAsync(() => condition(this) ? (object)true : null, timeout, () => description, cancellationToken);

    private async Task<T> WaitAsync<T>(Func<T?> probe, TimeSpan? timeout, Func<string> describe, CancellationToken cancellationToken)
        where T : class
    {
        var limit = timeout ?? DefaultWaitTimeout;
        return await _waiters.WaitAsync(probe, limit, () => $"Timed out after {limit.TotalSeconds:0.###} s waiting for {describe()}.", cancellationToken)
            .ConfigureAwait(false);
    }

    // ---------------------------------------------------------------- helpers (callers hold _sync)

    [GeneratedRegex(@"^\d{1,16}:[^/\s]+$")]
    private static partial Regex TokenFormat();

    private static long? ParseBotId(string token) =>
        TokenFormat().IsMatch(token) ? long.Parse(token.AsSpan(0, token.IndexOf(':', StringComparison.Ordinal)), System.Globalization.CultureInfo.InvariantCulture) : null;

    private static string BotIdOf(string token) => ParseBotId(token)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(malformed token)";

    private static string Shorten(string text) => text.Length <= 60 ? text : string.Concat(text.AsSpan(0, 57), "...");

    private static EmulatedBotInfo Info(BotState bot) => new(bot.Id, bot.FirstName, bot.Username, bot.Revoked);

    private BotState NewBot(string token, long id) => new(token, id, $"bot{id}_bot", $"Test bot {id}", _options.FirstUpdateId);

    private BotState? Find(string token) => _bots.GetValueOrDefault(token);

    /// <summary>The bot of a token for the test side: auto-registered when allowed, else it must have been added.</summary>
    private BotState Require(string token)
    {
        if (_bots.TryGetValue(token, out var bot))
        {
            return bot;
        }

        var id = ParseBotId(token) ?? throw new ArgumentException("A bot token looks like <digits>:<secret>.", nameof(token));
        if (!_options.AutoRegisterTokens)
        {
            throw new InvalidOperationException($"Bot {id} is unknown: AutoRegisterTokens is off, call AddBot first.");
        }

        bot = NewBot(token, id);
        _bots[token] = bot;
        return bot;
    }

    /// <summary>The bot a Bot API call authenticates as, or null for 401.</summary>
    private BotState? Authenticate(string token)
    {
        if (_bots.TryGetValue(token, out var bot))
        {
            return bot.Revoked ? null : bot;
        }

        if (!_options.AutoRegisterTokens || ParseBotId(token) is not { } id)
        {
            return null;
        }

        bot = NewBot(token, id);
        _bots[token] = bot;
        return bot;
    }

    private DateTimeOffset Now => _options.TimeProvider.GetUtcNow();

    private long NextSequence() => ++_sequence;

    private ChatState GetChat(BotState bot, JsonObject chat)
    {
        var id = BotApiParameters.AsLong(chat["id"]) ?? throw new ArgumentException("chat.id is missing.");
        if (!bot.Chats.TryGetValue(id, out var state))
        {
            state = new ChatState(chat);
            bot.Chats[id] = state;
        }
        else
        {
            state.Chat = chat;
        }

        return state;
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using System.Runtime.InteropServices;
using Orchestrator.Fakes.Sensay;
using Orchestrator.Fakes.Telegram;

namespace Orchestrator.Fakes.Bench;

/// <summary>
/// The benchmark driver's control API over both fakes (standalone <c>--bench</c> mode), on its own port so load and
/// control never share a listener. Bots are addressed by index; tokens stay in this process.
/// <list type="bullet">
/// <item><c>POST /replicas {count}</c>: the fake Sensay lists <c>count</c> replicas with Telegram bots (replacing the list)</item>
/// <item><c>POST /replicas/change {percent}</c>: renames that share of them (a changed definition restarts the bot)</item>
/// <item><c>POST /upstream {delayMs}</c>: every completion takes this long</item>
/// <item><c>GET /stats</c>: pending long polls, Bot API calls by method</item>
/// <item><c>POST /mark</c>, <c>POST /polling {uuids, mark}</c>: how many of these replicas' bots poll again since the mark</item>
/// <item><c>POST /load {count, rate, holdCollections}</c>, <c>GET /load[?percentiles=true]</c>: user messages spread over
/// the bots, and reply timing (percentiles once every reply is in, or when asked)</item>
/// </list>
/// <para>
/// This process stands in for Telegram and Sensay, which do not pause for their clients. With 10,000 long polls pending it
/// collected every half second at 500 msg/s, 10-30 ms each, and every collection delayed the messages in flight: with
/// an instant upstream most of the orchestrator's measured latency tail was this process's (p99 14-30 ms, against
/// 4.5-7 ms held). So a load run may hold this process's collections (<c>holdCollections</c>, a no-GC region sized for
/// the run after one full collection before it starts), and its summary says how many collections still happened.
/// </para>
/// </summary>
public sealed class BenchControl : IAsyncDisposable
{
    private readonly TelegramEmulator _telegram;
    private readonly FakeSensayApi _sensay;
    private readonly Lock _sync = new();
    private readonly Lock _pendingSync = new();

    /// <summary>Each chat's unanswered messages, oldest first (a chain through <see cref="PendingReply.Next"/>). Guarded by <see cref="_pendingSync"/>.</summary>
    private readonly Dictionary<(string Token, long ChatId), PendingReply> _pending = [];
    private BenchReplica[] _replicas = [];
    private Dictionary<string, BenchReplica> _byUuid = new(StringComparer.Ordinal);
    private int _generation;
    private LoadRun? _load;
    private LoadRun? _holding;
    private WebApplication? _app;

    private BenchControl(TelegramEmulator telegram, FakeSensayApi sensay)
    {
        _telegram = telegram;
        _sensay = sensay;
    }

    /// <summary>Users each bot hears from (round robin), so no user trips the per-user flood limit and chats run concurrently.</summary>
    public const int UsersPerBot = 64;

    /// <summary>Room a held run leaves per message: this process allocates ~30 KB per reply at 500 msg/s, more in a burst.</summary>
    private const long HeldBytesPerMessage = 64 * 1024;

    /// <summary>Room a held run leaves besides its messages (the pending polls renewed meanwhile, the driver's requests).</summary>
    private const long HeldBytesBase = 256L * 1024 * 1024;

    /// <summary>The largest no-GC region asked for.</summary>
    private const long HeldBytesMax = 4L * 1024 * 1024 * 1024;

    /// <summary>The control API's base URL.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>Wires the fakes for load (reply observer, timed completion handler) and starts the control API on 127.0.0.1:<paramref name="port"/>.</summary>
    public static async Task<BenchControl> StartAsync(TelegramEmulator telegram, FakeSensayApi sensay, int port = 0)
    {
        ArgumentNullException.ThrowIfNull(telegram);
        ArgumentNullException.ThrowIfNull(sensay);
        var control = new BenchControl(telegram, sensay);
        telegram.Options.SentMessageObserver = control.OnSentMessage;
        control.SetUpstreamDelay(TimeSpan.Zero);
        var app = FakeHost.CreateBuilder(port, logWarningsToConsole: true).Build();
        control.Map(app);
        await app.StartAsync().ConfigureAwait(false);
        control._app = app;
        control.BaseUrl = FakeHost.GetBaseUrl(app);
        return control;
    }

    /// <inheritdoc />
    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await FakeHost.StopAsync(_app).ConfigureAwait(false);
        }
    }

    /// <summary>The replica uuid of bench bot <paramref name="index"/>.</summary>
    public static string ReplicaUuid(int index) => $"00000000-0000-4000-8000-{index.ToString("D12", CultureInfo.InvariantCulture)}";

    private static string Token(int index) => $"{(1_000_000 + index).ToString(CultureInfo.InvariantCulture)}:bench_{index.ToString(CultureInfo.InvariantCulture)}_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    private void Map(WebApplication app)
    {
        app.MapPost("/replicas", (CountRequest body) =>
        {
            var replicas = Enumerable.Range(0, Math.Max(0, body.Count)).Select(i => new BenchReplica(ReplicaUuid(i), Token(i), $"bench-{i}")).ToArray();
            lock (_sync)
            {
                _replicas = replicas;
                _byUuid = replicas.ToDictionary(r => r.Uuid, StringComparer.Ordinal);
                _sensay.SetReplicas(replicas.Select(r => new FakeReplica(r.Uuid, r.Slug, r.Token)));
            }

            return Results.Json(new { count = replicas.Length });
        });
        app.MapPost("/replicas/change", (PercentRequest body) =>
        {
            var generation = Interlocked.Increment(ref _generation);
            BenchReplica[] all;
            lock (_sync)
            {
                all = _replicas;
            }

            var step = body.Percent <= 0 ? int.MaxValue : Math.Max(1, (int)Math.Round(100 / body.Percent));
            var changed = 0;
            for (var i = 0; i < all.Length; i += step)
            {
                var slug = $"bench-{i}-v{generation}";
                _sensay.UpdateReplica(all[i].Uuid, r => r with { Slug = slug });
                changed++;
            }

            return Results.Json(new { changed });
        });
        app.MapPost("/upstream", (DelayRequest body) =>
        {
            SetUpstreamDelay(TimeSpan.FromMilliseconds(Math.Max(0, body.DelayMs)));
            return Results.Json(new { delayMs = body.DelayMs });
        });
        app.MapGet("/stats", () => Results.Json(new
        {
            bots = _replicas.Length,
            pendingPolls = _telegram.PendingPollTotal,
            calls = _telegram.MethodCounts,
        }));
        app.MapPost("/mark", () => Results.Json(new { mark = Stopwatch.GetTimestamp() }));
        app.MapPost("/polling", (PollingRequest body) =>
        {
            Dictionary<string, BenchReplica> byUuid;
            lock (_sync)
            {
                byUuid = _byUuid;
            }

            var tokens = body.Uuids.Select(u => byUuid.GetValueOrDefault(u)?.Token).OfType<string>().ToList();
            return Results.Json(new { polling = _telegram.PendingPollsSince(tokens, body.Mark), of = tokens.Count });
        });
        app.MapPost("/load", (LoadRequest body) =>
        {
            BenchReplica[] bots;
            lock (_sync)
            {
                bots = _replicas;
                if (bots.Length == 0 || body.Count <= 0)
                {
                    return Results.BadRequest(new { error = "no bots, or count <= 0" });
                }

                // A run still injecting is in progress; one whose replies never all came (the driver gave up) may be replaced.
                if (_load is { InjectionDone: false })
                {
                    return Results.Conflict(new { error = "a load run is still injecting" });
                }

                lock (_pendingSync)
                {
                    _pending.Clear();
                }

                _load = new LoadRun(body.Count, body.Rate);
            }

            var run = _load;
            _ = Task.Run(() => RunLoadAsync(run, bots, body.HoldCollections));
            return Results.Json(new { started = body.Count });
        });
        app.MapGet("/load", (bool? percentiles) => _load is { } run
            ? Results.Json(run.Summary(percentiles == true))
            : Results.NotFound(new { error = "no load run yet" }));
    }

    private void SetUpstreamDelay(TimeSpan delay)
    {
        _sensay.CompletionHandler = async (request, cancellationToken) =>
        {
            var started = Stopwatch.GetTimestamp();
            if (delay > TimeSpan.Zero)
            {
                await Task.Delay(delay, cancellationToken).ConfigureAwait(false);
            }

            NoteUpstream(request, Stopwatch.GetTimestamp() - started);
            return $"Echo: {request.Content}";
        };
    }

    /// <summary>Attributes a completion's time to the oldest unanswered message of its chat (the orchestrator answers a chat in order).</summary>
    private void NoteUpstream(CompletionRequest request, long ticks)
    {
        if (request.TelegramData?.ChatId is { } chatId && _byUuid.GetValueOrDefault(request.ReplicaUuid) is { } replica)
        {
            lock (_pendingSync)
            {
                if (_pending.TryGetValue((replica.Token, chatId), out var head))
                {
                    head.UpstreamTicks += ticks;
                }
            }
        }
    }

    private void OnSentMessage(string token, long chatId)
    {
        var at = Stopwatch.GetTimestamp();
        PendingReply? reply;
        lock (_pendingSync)
        {
            if (!_pending.TryGetValue((token, chatId), out reply))
            {
                return;
            }

            if (reply.Next is { } next)
            {
                _pending[(token, chatId)] = next;
            }
            else
            {
                _pending.Remove((token, chatId));
            }
        }

        _load?.Replied(reply, at);
    }

    private void AddPending((string Token, long ChatId) chat, PendingReply reply)
    {
        lock (_pendingSync)
        {
            ref var head = ref CollectionsMarshal.GetValueRefOrAddDefault(_pending, chat, out _);
            if (head is null)
            {
                head = reply;
                return;
            }

            var tail = head;
            while (tail.Next is not null)
            {
                tail = tail.Next;
            }

            tail.Next = reply;
        }
    }

    /// <summary>Injects the run's messages and, when asked, holds this process's collections until every reply is in.</summary>
    private async Task RunLoadAsync(LoadRun run, BenchReplica[] bots, bool holdCollections)
    {
        if (holdCollections)
        {
            HoldCollections(run);
        }

        try
        {
            await InjectAsync(run, bots).ConfigureAwait(false);

            // A run whose replies never all come is released when the next one starts, or after this long.
            await run.Completed.WaitAsync(TimeSpan.FromMinutes(15)).ConfigureAwait(false);
        }
        catch (TimeoutException)
        {
            // The driver gave up on this run.
        }
        finally
        {
            ReleaseCollections(run);
        }
    }

    private void HoldCollections(LoadRun run)
    {
        lock (_sync)
        {
            ReleaseCollections(_holding);

            // Start from a compacted heap, so the region's room is the run's alone.
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            var bytes = Math.Min(HeldBytesMax, HeldBytesBase + (run.Count * HeldBytesPerMessage));
            try
            {
                run.CollectionsHeld = GC.TryStartNoGCRegion(bytes);
            }
            catch (ArgumentOutOfRangeException)
            {
                // More than the runtime allows in one region: the run goes on with collections.
            }

            _holding = run.CollectionsHeld ? run : null;
        }
    }

    private void ReleaseCollections(LoadRun? run)
    {
        lock (_sync)
        {
            if (run is null || _holding != run)
            {
                return;
            }

            _holding = null;
            if (GCSettings.LatencyMode == GCLatencyMode.NoGCRegion)
            {
                try
                {
                    GC.EndNoGCRegion();
                }
                catch (InvalidOperationException)
                {
                    // The run outgrew the region, and the runtime already ended it with a collection (counted in the summary).
                }
            }
        }
    }

    private async Task InjectAsync(LoadRun run, BenchReplica[] bots)
    {
        var interval = run.Rate > 0 ? Stopwatch.Frequency / run.Rate : 0;
        var start = Stopwatch.GetTimestamp();
        run.Start(start);
        for (var i = 0; i < run.Count; i++)
        {
            if (interval > 0)
            {
                var due = start + (long)(i * interval);
                while (Stopwatch.GetTimestamp() < due)
                {
                    await Task.Delay(1).ConfigureAwait(false);
                }
            }

            var bot = bots[i % bots.Length];
            var userIndex = i / bots.Length % UsersPerBot;
            var user = new TelegramUser(5_000_000 + userIndex, $"User{userIndex}", $"user{userIndex}");
            AddPending((bot.Token, user.Id), new PendingReply(Stopwatch.GetTimestamp()));
            try
            {
                _telegram.SendPrivateText(bot.Token, $"benchmark message {i.ToString(CultureInfo.InvariantCulture)}", user);
            }
            catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
            {
                run.Failed();
            }
        }

        run.Injected(Stopwatch.GetTimestamp());
    }

    private sealed record BenchReplica(string Uuid, string Token, string Slug);

    private sealed record CountRequest(int Count);

    private sealed record PercentRequest(double Percent);

    private sealed record DelayRequest(int DelayMs);

    private sealed record PollingRequest(string[] Uuids, long Mark);

    private sealed record LoadRequest(int Count, double Rate, bool HoldCollections = false);

    /// <summary>A message waiting for its reply. Its fields are guarded by <see cref="_pendingSync"/> while it is pending.</summary>
    private sealed class PendingReply(long injectedAt)
    {
        public long InjectedAt { get; } = injectedAt;

        public long UpstreamTicks { get; set; }

        /// <summary>The chat's next unanswered message.</summary>
        public PendingReply? Next { get; set; }
    }

    /// <summary>One load run: end-to-end and added latencies of each reply, in arrival order.</summary>
    private sealed class LoadRun(int count, double rate)
    {
        private readonly double[] _endToEndMs = new double[count];
        private readonly double[] _addedMs = new double[count];
        private readonly TaskCompletionSource _completed = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _recorded;
        private int _collectionsAtStart;
        private int _collectionsAtEnd = -1;
        private int _replied;
        private int _failed;
        private long _start;
        private long _injectedAt;
        private long _lastReply;

        public int Count { get; } = count;

        public double Rate { get; } = rate;

        public bool InjectionDone => Volatile.Read(ref _injectedAt) != 0;

        public bool Done => Volatile.Read(ref _injectedAt) != 0 && Volatile.Read(ref _recorded) + Volatile.Read(ref _failed) >= Count;

        /// <summary>Completes when every message is answered or failed.</summary>
        public Task Completed => _completed.Task;

        /// <summary>Whether this process's collections were held for the run (a no-GC region).</summary>
        public bool CollectionsHeld { get; set; }

        /// <summary>Collections of this process (any generation) since the run started, until it is done.</summary>
        public int Collections => (Volatile.Read(ref _collectionsAtEnd) is var end and >= 0 ? end : GC.CollectionCount(0)) - _collectionsAtStart;

        public void Start(long at)
        {
            _start = at;
            _collectionsAtStart = GC.CollectionCount(0);
        }

        public void Injected(long at)
        {
            Volatile.Write(ref _injectedAt, at);
            CompleteIfDone();
        }

        public void Failed()
        {
            Interlocked.Increment(ref _failed);
            CompleteIfDone();
        }

        public void Replied(PendingReply reply, long at)
        {
            var index = Interlocked.Increment(ref _replied) - 1;
            if (index >= Count)
            {
                return;
            }

            var total = Stopwatch.GetElapsedTime(reply.InjectedAt, at).TotalMilliseconds;
            _endToEndMs[index] = total;
            _addedMs[index] = Math.Max(0, total - (reply.UpstreamTicks * 1000.0 / Stopwatch.Frequency));
            Interlocked.Exchange(ref _lastReply, at);
            Interlocked.Increment(ref _recorded);
            CompleteIfDone();
        }

        /// <summary>The run so far; the percentiles (a sort of every latency) only once it is done, or when <paramref name="percentiles"/>.</summary>
        public object Summary(bool percentiles)
        {
            var done = Done;
            var replied = Math.Min(Volatile.Read(ref _recorded), Count);
            var injectedAt = Volatile.Read(ref _injectedAt);
            var lastReply = Interlocked.Read(ref _lastReply);
            var span = replied > 0 ? Stopwatch.GetElapsedTime(_start, lastReply).TotalSeconds : 0;
            return new
            {
                count = Count,
                rate = Rate,
                replied,
                failed = Volatile.Read(ref _failed),
                done,
                injectSeconds = injectedAt == 0 ? (double?)null : Stopwatch.GetElapsedTime(_start, injectedAt).TotalSeconds,
                elapsedSeconds = Stopwatch.GetElapsedTime(_start).TotalSeconds,
                repliesPerSecond = span > 0 ? replied / span : 0,
                endToEndMs = done || percentiles ? Percentiles(_endToEndMs, replied) : null,
                addedMs = done || percentiles ? Percentiles(_addedMs, replied) : null,
                emulatorCollectionsHeld = CollectionsHeld,
                emulatorCollections = Collections,
            };
        }

        private void CompleteIfDone()
        {
            if (Done)
            {
                Interlocked.CompareExchange(ref _collectionsAtEnd, GC.CollectionCount(0), -1);
                _completed.TrySetResult();
            }
        }

        private static object? Percentiles(double[] values, int count)
        {
            if (count == 0)
            {
                return null;
            }

            var sorted = values.AsSpan(0, count).ToArray();
            Array.Sort(sorted);
            double At(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * count) - 1, 0, count - 1)];
            return new { p50 = At(0.50), p90 = At(0.90), p99 = At(0.99), max = sorted[^1], mean = sorted.Average() };
        }
    }
}

using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Orchestrator.Fakes.Sensay;
using Orchestrator.Fakes.Telegram;

namespace Orchestrator.Host.Tests.Cluster;

/// <summary>One redis-server shared by the cluster tests; each test keeps its keys apart with its own SERVICE_ID.</summary>
public sealed class RedisFixture : IAsyncLifetime
{
    private RedisServer? _redis;

    /// <summary>The server; a test skips when redis-server is not on PATH.</summary>
    public RedisServer Redis => _redis ?? throw new InvalidOperationException("Not started.");

    public ValueTask InitializeAsync() => ValueTask.CompletedTask;

    /// <summary>Starts the server on first use, or skips the calling test when redis-server is not on PATH.</summary>
    public async Task<RedisServer> GetOrSkipAsync() => _redis ??= await RedisServer.StartOrSkipAsync();

    public async ValueTask DisposeAsync()
    {
        if (_redis is not null)
        {
            await _redis.DisposeAsync();
        }
    }
}

/// <summary>The cluster tests run one at a time: each starts several silo processes on two shared cores.</summary>
[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<RedisFixture>
{
    public const string Name = "cluster";
}

/// <summary>A bot's /status entry, the fields the tests read.</summary>
public sealed record BotEntry(string ReplicaUuid, string Status, string? Silo, string? LastError);

/// <summary>
/// One test's cluster: its own Telegram emulator and fake Sensay, a SERVICE_ID and CLUSTER_ID of its own on the
/// shared Redis, and the silo processes it started (all killed on dispose).
/// </summary>
public sealed class ClusterScope : IAsyncDisposable
{
    public const string SensayKey = "cluster-sensay-key";
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(45);

    private readonly List<SiloProcess> _silos = [];
    private readonly ITestOutputHelper? _log;
    private int _siloCount;

    private ClusterScope(RedisServer redis, TelegramEmulator telegram, FakeSensayApi sensay, ITestOutputHelper? log)
    {
        Redis = redis;
        Telegram = telegram;
        Sensay = sensay;
        _log = log;
        var id = Guid.NewGuid().ToString("N")[..8];
        ServiceId = $"svc-{id}";
        ClusterId = $"cl-{id}";
    }

    public RedisServer Redis { get; }

    public TelegramEmulator Telegram { get; }

    public FakeSensayApi Sensay { get; }

    public string ServiceId { get; }

    public string ClusterId { get; }

    /// <summary>Silos started by this scope that still run.</summary>
    public IReadOnlyList<SiloProcess> Live => _silos.Where(s => !s.HasExited).ToArray();

    public static async Task<ClusterScope> CreateAsync(RedisFixture fixture, ITestOutputHelper? log = null, RedisServer? ownRedis = null)
    {
        var redis = ownRedis ?? await fixture.GetOrSkipAsync();
        var telegram = await TelegramEmulator.StartAsync();
        var sensay = await FakeSensayApi.StartAsync(new FakeSensayOptions { ApiKey = SensayKey });
        return new ClusterScope(redis, telegram, sensay, log);
    }

    /// <summary>The environment of a cluster-mode silo of this scope.</summary>
    public Dictionary<string, string> SiloEnvironment(bool cluster = true)
    {
        var env = new Dictionary<string, string>
        {
            ["CLUSTER_ID"] = ClusterId,
            ["SERVICE_ID"] = ServiceId,
            ["TELEGRAM_API_URL"] = Telegram.BaseUrl.ToString(),
            ["TELEGRAM_POLL_TIMEOUT_S"] = "2",
            ["HEALTH_CHECK_INTERVAL_MS"] = "1000",
            ["HEALTH_CHECK_TIMEOUT_MS"] = "2000",
            ["GRACEFUL_SHUTDOWN_TIMEOUT_MS"] = "1000",
            ["SENSAY_API_URL"] = Sensay.BaseUrl.ToString(),
            ["SENSAY_API_KEY"] = SensayKey,
        };
        if (cluster)
        {
            env["REDIS_CONNECTION_STRING"] = Redis.ConnectionString;
        }

        return env;
    }

    public async Task<SiloProcess> StartSiloAsync(IReadOnlyDictionary<string, string>? environment = null)
    {
        var name = $"silo-{Interlocked.Increment(ref _siloCount)}";
        var watch = Stopwatch.StartNew();
        var silo = await SiloProcess.StartAsync(name, environment ?? SiloEnvironment());
        lock (_silos)
        {
            _silos.Add(silo);
        }

        Log($"{name} (silo port {silo.SiloPort}, http {silo.HttpPort}) ready in {watch.Elapsed.TotalSeconds:0.0} s");
        return silo;
    }

    public async Task<SiloProcess[]> StartSilosAsync(int count) =>
        await Task.WhenAll(Enumerable.Range(0, count).Select(_ => StartSiloAsync()));

    /// <summary>Adds <paramref name="count"/> bots, each through the next silo in turn (slugs <c>prefix-0</c>, <c>prefix-1</c>, …).</summary>
    public async Task<List<(string ReplicaUuid, string Token)>> AddBotsAsync(IReadOnlyList<SiloProcess> silos, int count, string prefix)
    {
        var bots = new List<(string ReplicaUuid, string Token)>(count);
        for (var i = 0; i < count; i++)
        {
            bots.Add(await AddBotAsync(silos[i % silos.Count], $"{prefix}-{i}"));
        }

        return bots;
    }

    /// <summary>A bot known to Sensay (so reloads agree) and created through the REST API of <paramref name="silo"/>.</summary>
    public async Task<(string ReplicaUuid, string Token)> AddBotAsync(SiloProcess silo, string slug)
    {
        var replicaUuid = Guid.NewGuid().ToString();
        var token = $"{Random.Shared.Next(100000, 999999)}:CLUSTER-{Guid.NewGuid():N}";
        Sensay.AddReplica(new FakeReplica(replicaUuid, slug, token));
        using var api = silo.CreateClient();
        // The same owner as the Sensay replica: otherwise the next reload sees a change and restarts the bot.
        using var response = await api.PostAsJsonAsync("/bots", new { replicaUUID = replicaUuid, replicaSlug = slug, ownerUUID = "owner-0001", token });
        // 409: the start-up reload got it from Sensay first.
        Assert.True(response.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, $"POST /bots answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}\n{Dump()}");
        return (replicaUuid, token);
    }

    public static async Task<BotEntry[]> GetStatusAsync(SiloProcess silo)
    {
        using var api = silo.CreateClient(TimeSpan.FromSeconds(10));
        var json = await api.GetFromJsonAsync<JsonArray>("/status") ?? [];
        return json.Select(n => new BotEntry(
            (string)n!["replicaUUID"]!,
            n["status"]!.ToString(),
            (string?)n["silo"],
            (string?)n["lastError"])).ToArray();
    }

    /// <summary>Asks /status of <paramref name="silo"/> until <paramref name="condition"/> holds (bounded; errors count as "not yet").</summary>
    public async Task<BotEntry[]> WaitForStatusAsync(SiloProcess silo, Func<BotEntry[], bool> condition, string description, TimeSpan? timeout = null)
    {
        var limit = timeout ?? Timeout;
        var watch = Stopwatch.StartNew();
        var last = "no answer yet";
        while (watch.Elapsed < limit)
        {
            try
            {
                var entries = await GetStatusAsync(silo);
                if (condition(entries))
                {
                    return entries;
                }

                last = string.Join("; ", entries.Select(e => $"{e.ReplicaUuid[..8]} {e.Status} on {e.Silo} ({e.LastError})"));
            }
            catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
            {
                last = ex.Message;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"Timed out after {limit.TotalSeconds} s waiting for {description} on {silo.Name}; last /status: {last}\n{Dump()}");
    }

    /// <summary>Sends a private message and waits for the one reply to it.</summary>
    public async Task<PostedUpdate> ChatAsync(string token, string text, TimeSpan? timeout = null)
    {
        var update = Telegram.SendPrivateText(token, text);
        await WaitForReplyAsync(token, update, timeout);
        return update;
    }

    public async Task WaitForReplyAsync(string token, PostedUpdate update, TimeSpan? timeout = null)
    {
        try
        {
            await Telegram.WaitForSentMessageAsync(token, m => m.ChatId == update.ChatId && m.ReplyToMessageId == update.MessageId, timeout ?? Timeout);
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message} (the reply to update {update.UpdateId} '{update.Text}')\n{Dump()}", ex);
        }
    }

    /// <summary>Every posted update of <paramref name="token"/> got exactly one reply; returns lost and duplicated counts.</summary>
    public (int Lost, int Duplicated) CountReplies(string token)
    {
        var sent = Telegram.SentMessages(token);
        var lost = 0;
        var duplicated = 0;
        foreach (var update in Telegram.PostedUpdates(token))
        {
            var replies = sent.Count(m => m.ChatId == update.ChatId && m.ReplyToMessageId == update.MessageId);
            lost += replies == 0 ? 1 : 0;
            duplicated += Math.Max(0, replies - 1);
        }

        return (lost, duplicated);
    }

    public void Log(string line) => _log?.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {line}");

    /// <summary>The output of every silo of this scope, for failure messages.</summary>
    public string Dump()
    {
        SiloProcess[] silos;
        lock (_silos)
        {
            silos = [.. _silos];
        }

        return string.Join("\n", silos.Select(s => $"===== {s.Name} (exited: {s.HasExited}) =====\n{Tail(s.Output, 12000)}"))
            + $"\n===== redis-server =====\n{Tail(Redis.Output, 4000)}";
    }

    private static string Tail(string text, int max) => text.Length <= max ? text : "…" + text[^max..];

    public async ValueTask DisposeAsync()
    {
        SiloProcess[] silos;
        lock (_silos)
        {
            silos = [.. _silos];
        }

        await Task.WhenAll(silos.Select(s => s.DisposeAsync().AsTask()));
        await Telegram.DisposeAsync();
        await Sensay.DisposeAsync();
    }
}

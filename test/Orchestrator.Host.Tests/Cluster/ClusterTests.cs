using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using Orchestrator.Fakes.Sensay;

namespace Orchestrator.Host.Tests.Cluster;

/// <summary>
/// Cluster mode end to end: real silo processes (the built Orchestrator.Host.dll) on a real redis-server, the real
/// Telegram.Bot client against the emulator. Timings are written to the test output.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class ClusterTests(RedisFixture fixture)
{
    /// <summary>SPEC §8's goal for a bot of a killed silo to run again (measured here: 1-3 s).</summary>
    private static readonly TimeSpan FailoverLimit = TimeSpan.FromSeconds(20);

    private static ITestOutputHelper? Output => TestContext.Current.TestOutputHelper;

    [Fact]
    public async Task Two_then_three_silo_processes_form_one_cluster()
    {
        await using var scope = await ClusterScope.CreateAsync(fixture, Output);
        var silos = await scope.StartSilosAsync(2);
        var bots = new List<string>();
        for (var i = 0; i < 8; i++)
        {
            bots.Add((await scope.AddBotAsync(silos[0], $"form-{i}")).ReplicaUuid);
        }

        foreach (var silo in silos)
        {
            var entries = await scope.WaitForStatusAsync(silo, e => AllRunning(e, bots), "all 8 bots running");
            Assert.True(entries.Select(e => e.Silo).Distinct().Count() == 2, $"bots are on {string.Join(", ", entries.Select(e => e.Silo).Distinct())}; expected both silos\n{scope.Dump()}");
        }

        var third = await scope.StartSiloAsync();
        for (var i = 8; i < 12; i++)
        {
            bots.Add((await scope.AddBotAsync(third, $"form-{i}")).ReplicaUuid);
        }

        // Every silo sees every bot, wherever it runs: they are one cluster.
        foreach (var silo in scope.Live)
        {
            var entries = await scope.WaitForStatusAsync(silo, e => AllRunning(e, bots), "all 12 bots running");
            var hosts = entries.Select(e => e.Silo).Distinct().ToArray();
            Assert.True(hosts.Length >= 2 && hosts.All(h => scope.Live.Any(s => s.Hosts(h))), $"bots on {string.Join(", ", hosts)}\n{scope.Dump()}");
        }

        // A joining silo never starts a second poller of a bot that runs elsewhere.
        Assert.True(scope.Telegram.ConflictCount == 0, $"{scope.Telegram.ConflictCount} conflicts (409)\n{scope.Dump()}");
    }

    [Fact]
    public async Task Kill_9_of_a_silo_under_a_trickle_brings_its_bots_back_with_no_reply_lost_or_duplicated()
    {
        await using var scope = await ClusterScope.CreateAsync(fixture, Output);
        var silos = await scope.StartSilosAsync(3);
        var bots = await scope.AddBotsAsync(silos, 6, "kill");

        await scope.WaitForStatusAsync(silos[0], e => AllRunning(e, bots.Select(b => b.ReplicaUuid)), "all 6 bots running");
        await using var trickle = new Trickle(scope, bots.Select(b => b.Token));
        var failovers = new List<double>();
        var kills = new List<DateTimeOffset>();
        for (var round = 1; round <= 3; round++)
        {
            var survivorsCount = scope.Live.Count;
            var entries = await scope.WaitForStatusAsync(scope.Live[0], e => AllRunning(e, bots.Select(b => b.ReplicaUuid)), "all bots running before the kill");
            var victim = scope.Live.OrderByDescending(s => entries.Count(e => s.Hosts(e.Silo))).First();
            var victimBots = bots.Where(b => victim.Hosts(entries.Single(e => e.ReplicaUuid == b.ReplicaUuid).Silo)).ToArray();
            var survivor = scope.Live.First(s => s != victim);
            var polls = victimBots.ToDictionary(b => b.Token, b => scope.Telegram.CallCount(b.Token, "getUpdates"));
            var posted = victimBots.ToDictionary(b => b.Token, b => scope.Telegram.PostedUpdates(b.Token).Count);
            var conflicts = scope.Telegram.ConflictCount;

            var watch = Stopwatch.StartNew();
            scope.Log($"kill round {round}: killing {victim.Name}");
            await victim.KillAsync();
            kills.Add(DateTimeOffset.UtcNow); // the victim is gone: it sent nothing after this
            var api = WatchApiDuringFailover(scope, survivor, victim);
            var pollingAgain = new List<double>();
            await Task.WhenAll(victimBots.Select(async b =>
            {
                await scope.Telegram.WaitUntilAsync(t => t.CallCount(b.Token, "getUpdates") > polls[b.Token], $"bot {b.ReplicaUuid} of the killed {victim.Name} to poll again", FailoverLimit);
                lock (pollingAgain)
                {
                    pollingAgain.Add(watch.Elapsed.TotalSeconds);
                }
            }));
            var allPolling = watch.Elapsed;
            await Task.WhenAll(victimBots.Select(b => trickle.WaitForReplyToANewMessageAsync(b.Token, posted[b.Token], FailoverLimit)));
            var allAnswering = watch.Elapsed;
            var (statusBackAfter, codes) = await api;
            failovers.Add(allPolling.TotalSeconds);
            scope.Log($"kill round {round}: {victim.Name} with {victimBots.Length} bots killed; /status on a survivor complete again after {statusBackAfter.TotalSeconds:0.00} s " +
                $"(answers meanwhile: {string.Join(", ", codes.GroupBy(c => c).Select(g => $"{g.Count()}×{g.Key}"))}); every bot polling again after {allPolling.TotalSeconds:0.00} s " +
                $"(each: {string.Join(", ", pollingAgain.Order().Select(s => s.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture)))}); answering new messages after {allAnswering.TotalSeconds:0.00} s; 409s: {scope.Telegram.ConflictCount - conflicts}");
            Assert.True(codes.All(c => c is 200 or 503), $"/status answered {string.Join(", ", codes.Distinct())} during the failover; expected only 200 or 503");
            // The dead silo polls no more, and its bots start elsewhere only once membership declared it dead.
            Assert.True(scope.Telegram.ConflictCount == conflicts, $"{scope.Telegram.ConflictCount - conflicts} conflicts (409) in kill round {round}\n{scope.Dump()}");

            if (round < 3)
            {
                await scope.StartSiloAsync(); // back to three silos for the next kill
                Assert.Equal(survivorsCount, scope.Live.Count);
            }
        }

        await trickle.StopAsync();
        // A kill -9 that lands between a reply's sendMessage and the state write recording it makes the survivor answer
        // that update again: Telegram offers no transaction to join. Only such updates may have a second reply.
        await AssertNothingLostOrDuplicatedAsync(scope, bots.Select(b => b.Token), kills);
        failovers.Sort();
        scope.Log($"kill -9 → every bot of the victim polling again: median {failovers[failovers.Count / 2]:0.00} s, max {failovers[^1]:0.00} s; total 409s {scope.Telegram.ConflictCount}");
    }

    [Fact]
    public async Task SIGTERM_of_a_silo_under_a_trickle_exits_0_and_hands_its_bots_over_without_overlap()
    {
        await using var scope = await ClusterScope.CreateAsync(fixture, Output);
        var silos = await scope.StartSilosAsync(2);
        var bots = await scope.AddBotsAsync(silos, 6, "term");

        var entries = await scope.WaitForStatusAsync(silos[0], e => AllRunning(e, bots.Select(b => b.ReplicaUuid)), "all 6 bots running");
        await using var trickle = new Trickle(scope, bots.Select(b => b.Token));
        await Task.WhenAll(bots.Select(b => trickle.WaitForReplyToANewMessageAsync(b.Token, 0, ClusterScope.Timeout)));
        var victim = silos.OrderByDescending(s => entries.Count(e => s.Hosts(e.Silo))).First();
        var victimBots = bots.Where(b => victim.Hosts(entries.Single(e => e.ReplicaUuid == b.ReplicaUuid).Silo)).ToArray();
        var posted = victimBots.ToDictionary(b => b.Token, b => scope.Telegram.PostedUpdates(b.Token).Count);
        var conflicts = scope.Telegram.ConflictCount;

        var watch = Stopwatch.StartNew();
        var (exitCode, elapsed) = await victim.TerminateAsync(TimeSpan.FromSeconds(30));
        Assert.True(exitCode == 0, $"{victim.Name} exited with {exitCode} after SIGTERM\n{scope.Dump()}");
        await Task.WhenAll(victimBots.Select(b => trickle.WaitForReplyToANewMessageAsync(b.Token, posted[b.Token], FailoverLimit)));
        var answering = watch.Elapsed;
        await trickle.StopAsync();
        await AssertNothingLostOrDuplicatedAsync(scope, bots.Select(b => b.Token));
        var overlap = scope.Telegram.ConflictCount - conflicts;
        scope.Log($"SIGTERM: {victim.Name} with {victimBots.Length} bots exited with 0 after {elapsed.TotalSeconds:0.00} s; its bots answered new messages after {answering.TotalSeconds:0.00} s; 409s: {overlap}");
        // The leaving silo stops each bot's poll before the bot can activate elsewhere: never two pollers.
        Assert.True(overlap == 0, $"{overlap} conflicts (409) for {victimBots.Length} moved bots\n{scope.Dump()}");
    }

    [Fact]
    public async Task A_full_cluster_restart_keeps_definitions_offsets_and_failed_status()
    {
        await using var scope = await ClusterScope.CreateAsync(fixture, Output);
        var silos = await scope.StartSilosAsync(2);
        var good = await scope.AddBotAsync(silos[0], "restart-good");
        var revokedToken = $"{Random.Shared.Next(100000, 999999)}:REVOKED-{Guid.NewGuid():N}";
        scope.Telegram.AddBot(revokedToken);
        scope.Telegram.RevokeToken(revokedToken);
        var revokedUuid = Guid.NewGuid().ToString();
        scope.Sensay.AddReplica(new FakeReplica(revokedUuid, "restart-revoked", revokedToken));
        using (var api = silos[1].CreateClient())
        {
            using var created = await api.PostAsJsonAsync("/bots", new { replicaUUID = revokedUuid, replicaSlug = "restart-revoked", ownerUUID = "owner-0001", token = revokedToken });
            Assert.True(created.StatusCode is HttpStatusCode.Created or HttpStatusCode.Conflict, $"POST answered {(int)created.StatusCode}: {await created.Content.ReadAsStringAsync()}\n{scope.Dump()}");
        }

        await scope.WaitForStatusAsync(silos[0], e => e.Any(b => b.ReplicaUuid == revokedUuid && b.Status == "failed") && AllRunning(e, [good.ReplicaUuid]), "the good bot running and the revoked one failed");
        await scope.ChatAsync(good.Token, "before restart 1");
        var last = await scope.ChatAsync(good.Token, "before restart 2");
        await scope.Telegram.WaitForConfirmedAsync(good.Token, last.UpdateId, ClusterScope.Timeout);
        var revokedCalls = scope.Telegram.Calls(revokedToken).Count;

        foreach (var (code, _) in await Task.WhenAll(silos.Select(s => s.TerminateAsync(TimeSpan.FromSeconds(30)))))
        {
            Assert.Equal(0, code);
        }

        // Sensay is down now: the new cluster can only know the bots from its Redis state.
        scope.Sensay.InjectFault(SensayRoute.ReplicaList, new SensayFault { StatusCode = 500, Times = SensayFault.UntilCleared });
        var restarted = await scope.StartSilosAsync(2);
        var entries = await scope.WaitForStatusAsync(restarted[1], e => e.Length == 2 && AllRunning(e, [good.ReplicaUuid]), "both bots back, the good one running");
        var revoked = entries.Single(e => e.ReplicaUuid == revokedUuid);
        Assert.Equal("failed", revoked.Status);
        Assert.Equal("token rejected by Telegram", revoked.LastError);

        var after = await scope.ChatAsync(good.Token, "after restart");
        await scope.Telegram.WaitForConfirmedAsync(good.Token, after.UpdateId, ClusterScope.Timeout);
        Assert.Equal((0, 0), scope.CountReplies(good.Token));
        Assert.Equal(3, scope.Telegram.SentMessages(good.Token).Count);
        Assert.Equal(revokedCalls, scope.Telegram.Calls(revokedToken).Count);
    }

    [Fact]
    public async Task Redis_down_for_10_s_then_back_the_silos_survive_and_converge()
    {
        // A Redis of its own: this test stops it, the shared one stays untouched.
        await using var redis = await RedisServer.StartOrSkipAsync();
        await using var scope = await ClusterScope.CreateAsync(fixture, Output, redis);
        var silos = await scope.StartSilosAsync(2);
        var bots = await scope.AddBotsAsync(silos, 4, "redis");

        await scope.WaitForStatusAsync(silos[0], e => AllRunning(e, bots.Select(b => b.ReplicaUuid)), "all 4 bots running");
        await Task.WhenAll(bots.Select(b => scope.ChatAsync(b.Token, "before the outage")));

        await scope.Redis.StopAsync(persist: true);
        try
        {
            // The outage itself: a deliberate, fixed 10 s without Redis (not a synchronisation wait).
            await Task.Delay(TimeSpan.FromSeconds(10));
            Assert.All(silos, s => Assert.False(s.HasExited, $"{s.Name} died while Redis was down\n{scope.Dump()}"));
        }
        finally
        {
            await scope.Redis.StartAsync();
        }

        var watch = Stopwatch.StartNew();
        await Task.WhenAll(bots.Select(b => scope.ChatAsync(b.Token, "after the outage")));
        foreach (var silo in silos)
        {
            await scope.WaitForStatusAsync(silo, e => AllRunning(e, bots.Select(b => b.ReplicaUuid)), "all bots running after Redis came back");
        }

        scope.Log($"Redis back: every bot answered after {watch.Elapsed.TotalSeconds:0.00} s; both silos report all bots running");
        Assert.All(silos, s => Assert.False(s.HasExited, $"{s.Name} died after the outage\n{scope.Dump()}"));
        await AssertNothingLostOrDuplicatedAsync(scope, bots.Select(b => b.Token));
    }

    [Fact]
    public async Task SIGTERM_with_a_reply_in_flight_exits_0_in_time_and_the_update_is_answered_once_after_restart()
    {
        await using var scope = await ClusterScope.CreateAsync(fixture, Output);
        var silo = await scope.StartSiloAsync();
        var bot = await scope.AddBotAsync(silo, "in-flight");
        await scope.WaitForStatusAsync(silo, e => AllRunning(e, [bot.ReplicaUuid]), "the bot running");
        await scope.ChatAsync(bot.Token, "warm up");

        var blocked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        scope.Sensay.CompletionHandler = async (request, cancellationToken) =>
        {
            blocked.TrySetResult();
            await Task.Delay(System.Threading.Timeout.Infinite, cancellationToken);
            return "never";
        };
        var update = scope.Telegram.SendPrivateText(bot.Token, "answer me after the restart");
        await blocked.Task.WaitAsync(ClusterScope.Timeout);

        var (exitCode, elapsed) = await silo.TerminateAsync(TimeSpan.FromSeconds(30));
        scope.Log($"SIGTERM with a reply in flight: exit code {exitCode} after {elapsed.TotalSeconds:0.00} s (GRACEFUL_SHUTDOWN_TIMEOUT_MS 1000)");
        Assert.True(exitCode == 0, $"exit code {exitCode}\n{scope.Dump()}");
        Assert.True(elapsed < TimeSpan.FromSeconds(1 + 7), $"SIGTERM took {elapsed.TotalSeconds:0.0} s to exit\n{scope.Dump()}");
        Assert.True(scope.Telegram.IsUnconfirmed(bot.Token, update.UpdateId), "the update in flight was confirmed to Telegram although it was not answered");
        Assert.Equal((1, 0), scope.CountReplies(bot.Token)); // lost so far: the one in flight

        scope.Sensay.CompletionHandler = (request, _) => Task.FromResult("Echo: " + request.Content);
        var next = await scope.StartSiloAsync();
        await scope.WaitForReplyAsync(bot.Token, update);
        await scope.Telegram.WaitForConfirmedAsync(bot.Token, update.UpdateId, ClusterScope.Timeout);
        Assert.Equal((0, 0), scope.CountReplies(bot.Token));
        Assert.False(next.HasExited);
    }

    private static bool AllRunning(BotEntry[] entries, IEnumerable<string> replicaUuids) =>
        replicaUuids.All(id => entries.Any(e => e.ReplicaUuid == id && e.Status == "running"));

    /// <summary>
    /// Waits until every posted update is confirmed, then checks each got exactly one reply, except that an update whose
    /// first reply was sent at most <see cref="CrashWindow"/> before one of <paramref name="kills"/> (recorded up to
    /// <see cref="RecordLag"/> after it) may have been answered again after that kill.
    /// </summary>
    private static async Task AssertNothingLostOrDuplicatedAsync(ClusterScope scope, IEnumerable<string> tokens, IReadOnlyList<DateTimeOffset>? kills = null)
    {
        kills ??= [];
        var repeatedAtKills = 0;
        foreach (var token in tokens)
        {
            var posted = scope.Telegram.PostedUpdates(token);
            await scope.Telegram.WaitForConfirmedAsync(token, posted[^1].UpdateId, ClusterScope.Timeout);
            var sent = scope.Telegram.SentMessages(token);
            var replies = posted
                .Select(u => (Update: u, Replies: sent.Where(m => m.ChatId == u.ChatId && m.ReplyToMessageId == u.MessageId).Select(m => m.Time).Order().ToList()))
                .ToList();
            var lost = replies.Where(x => x.Replies.Count == 0).ToList();
            var repeated = replies.Where(x => x.Replies.Count > 1).ToList();
            var unexplained = repeated.Where(x => x.Replies.Count > 2 || !kills.Any(kill =>
                x.Replies[0] <= kill + RecordLag && kill - x.Replies[0] <= CrashWindow && x.Replies[1] > kill)).ToList();
            repeatedAtKills += repeated.Count - unexplained.Count;
            var details = string.Join('\n', lost.Concat(unexplained).Select(x =>
                $"update {x.Update.UpdateId} posted {x.Update.Time:HH:mm:ss.fff}: {x.Replies.Count} replies at {string.Join(", ", x.Replies.Select(r => r.ToString("HH:mm:ss.fff", System.Globalization.CultureInfo.InvariantCulture)))}"));
            Assert.True(lost.Count == 0 && unexplained.Count == 0, $"bot {token.Split(':')[0]}: {posted.Count} messages, {lost.Count} lost, {unexplained.Count} answered twice outside a kill's crash window\n{details}\n{scope.Dump()}");
        }

        scope.Log($"updates answered again because a kill -9 landed between their reply and its state write: {repeatedAtKills}");
    }

    /// <summary>How long before a kill a reply may have been sent without its state write completing (generous: a loaded 2-core host).</summary>
    private static readonly TimeSpan CrashWindow = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How late the emulator may record a reply the victim sent before it died: it records a sendMessage when it handles
    /// the request, and on a loaded machine one already on the wire was handled 27 ms after the kill had been issued.
    /// Far below a failover (over a second), so a reply from the bot's next silo never passes for one.
    /// </summary>
    private static readonly TimeSpan RecordLag = TimeSpan.FromMilliseconds(500);

    /// <summary>
    /// Asks /status of <paramref name="survivor"/> until it lists every bot again and none on <paramref name="victim"/>;
    /// returns how long that took and every HTTP status seen meanwhile.
    /// </summary>
    private static async Task<(TimeSpan Elapsed, List<int> Codes)> WatchApiDuringFailover(ClusterScope scope, SiloProcess survivor, SiloProcess victim)
    {
        var watch = Stopwatch.StartNew();
        var codes = new List<int>();
        using var api = survivor.CreateClient(TimeSpan.FromSeconds(10));
        while (watch.Elapsed < FailoverLimit)
        {
            using var response = await api.GetAsync("/status");
            codes.Add((int)response.StatusCode);
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                Assert.True(response.Headers.RetryAfter is not null, "a 503 without Retry-After");
            }
            else if (response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync();
                if (!body.Contains($"127.0.0.1:{victim.SiloPort}:", StringComparison.Ordinal))
                {
                    return (watch.Elapsed, codes);
                }
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"/status of {survivor.Name} still failing or listing the dead {victim.Name} after {FailoverLimit.TotalSeconds} s\n{scope.Dump()}");
    }
}

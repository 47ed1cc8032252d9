using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Orchestrator.Abstractions;
using Orchestrator.Fakes.Sensay;
using Orchestrator.Fakes.Telegram;
using Orchestrator.Host.Tests.Infrastructure;

namespace Orchestrator.Host.Tests;

/// <summary>
/// The whole service as a user runs it: the real host (silo + REST API) over real HTTP, the real Telegram.Bot client
/// against the Telegram emulator and the real Sensay client against the fake Sensay, all over loopback.
/// </summary>
public sealed class EndToEndTests : IAsyncLifetime
{
    private const string SensayKey = "e2e-sensay-key";
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private TelegramEmulator _telegram = null!;
    private FakeSensayApi _sensay = null!;
    private OrchestratorHost _host = null!;

    public async ValueTask InitializeAsync()
    {
        _telegram = await TelegramEmulator.StartAsync();
        _sensay = await FakeSensayApi.StartAsync(new FakeSensayOptions { ApiKey = SensayKey });
        _host = await OrchestratorHost.StartAsync(new Dictionary<string, string?>
        {
            ["TELEGRAM_API_URL"] = _telegram.BaseUrl.ToString(),
            ["TELEGRAM_POLL_TIMEOUT_S"] = "2",
            ["SENSAY_API_URL"] = _sensay.BaseUrl.ToString(),
            ["SENSAY_API_KEY"] = SensayKey,
        });

        // Let the start-up reload (which runs on its own, after the host is up) finish against the empty fake Sensay:
        // otherwise, on a busy machine, it can run after the test added its replica and define the bot before the
        // test's POST does (409). ReloadAsync waits for a running reload, then runs one more (nothing changes).
        await _sensay.WaitForRequestAsync(r => r.PathAndQuery.StartsWith("/v1/replicas", StringComparison.Ordinal), Timeout);
        await _host.GrainFactory.GetGrain<IOrchestratorGrain>(GrainKeys.Orchestrator).ReloadAsync().WaitAsync(Timeout);
    }

    public async ValueTask DisposeAsync()
    {
        await _host.DisposeAsync();
        await _telegram.DisposeAsync();
        await _sensay.DisposeAsync();
    }

    [Fact]
    public async Task A_bot_added_by_POST_answers_a_private_message_and_DELETE_stops_it()
    {
        var replicaUuid = Guid.NewGuid().ToString();
        var token = "4242:E2E-" + Guid.NewGuid().ToString("N");
        // Sensay has the same replica, so a reload would agree with what the REST API defines.
        _sensay.AddReplica(new FakeReplica(replicaUuid, "ada", token, OwnerUuid: "owner-1"));
        using var api = _host.CreateClient(withAuth: true);

        var created = await api.PostAsJsonAsync("/bots", new { replicaUUID = replicaUuid, replicaSlug = "ada", ownerUUID = "owner-1", token });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/bots/{replicaUuid}", created.Headers.Location?.ToString());
        await _telegram.WaitForPendingPollAsync(token, Timeout);

        var update = _telegram.SendPrivateText(token, "Hello from Telegram");
        var reply = await _telegram.WaitForSentMessageAsync(token, timeout: Timeout);
        Assert.Equal("Echo: Hello from Telegram", reply.Text);
        Assert.Equal(update.MessageId, reply.ReplyToMessageId);
        await _telegram.WaitForConfirmedAsync(token, update.UpdateId, Timeout);

        var status = await api.GetStringAsync("/status");
        Assert.Contains(replicaUuid, status, StringComparison.Ordinal);
        Assert.DoesNotContain(token, status, StringComparison.Ordinal);
        var health = await api.GetFromJsonAsync<JsonElement>("/health");
        Assert.Equal("healthy", health.GetProperty("status").GetString());

        var deleted = await api.DeleteAsync($"/bots/{replicaUuid}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        await _telegram.WaitUntilAsync(t => t.PendingPollCount(token) == 0, "the deleted bot's long poll to end", Timeout);
        var polls = _telegram.CallCount(token, "getUpdates");
        _telegram.SendPrivateText(token, "anyone?");
        // A second bot's two full poll cycles are the clock: by then a still-running loop would have polled again.
        var witness = "4243:E2E-" + Guid.NewGuid().ToString("N");
        var witnessUuid = Guid.NewGuid().ToString();
        _sensay.AddReplica(new FakeReplica(witnessUuid, "witness", witness, OwnerUuid: null));
        await api.PostAsJsonAsync("/bots", new { replicaUUID = witnessUuid, replicaSlug = "witness", token = witness });
        await _telegram.WaitForPendingPollAsync(witness, Timeout);
        var witnessPolls = _telegram.CallCount(witness, "getUpdates");
        await _telegram.WaitUntilAsync(t => t.CallCount(witness, "getUpdates") >= witnessPolls + 2, "two more polls of a witness bot", Timeout);
        Assert.Equal(polls, _telegram.CallCount(token, "getUpdates"));
        Assert.Equal(1, _telegram.PendingUpdateCount(token));
    }
}

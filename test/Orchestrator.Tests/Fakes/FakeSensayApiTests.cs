using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Orchestrator.Fakes.Sensay;
using Orchestrator.Sensay;

namespace Orchestrator.Tests.Fakes;

public sealed class FakeSensayApiTests
{
    private const string Key = "org-secret";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static HttpClient Client(FakeSensayApi api)
    {
        var client = new HttpClient { BaseAddress = api.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };
        client.DefaultRequestHeaders.Add("X-ORGANIZATION-SECRET", Key);
        client.DefaultRequestHeaders.Add("X-API-VERSION", "2025-04-01");
        return client;
    }

    [Fact]
    public async Task Licence_service_wants_a_fresh_token_for_the_replica_signed_with_its_secret()
    {
        await using var api = await FakeSensayApi.StartAsync(new FakeSensayOptions { ApiKey = Key, LicenseSecretKey = "licence-secret" }, Ct);
        using var http = new HttpClient { BaseAddress = api.BaseUrl, Timeout = TimeSpan.FromSeconds(10) };
        var now = DateTimeOffset.UtcNow;

        async Task<(HttpStatusCode Status, string Body)> AskAsync(string token)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/license/telegram/r1");
            request.Headers.Authorization = new("Bearer", token);
            using var response = await http.SendAsync(request, Ct);
            return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
        }

        Assert.Equal((HttpStatusCode.OK, """{"valid":true}"""), await AskAsync(LicenseToken.Create("licence-secret", "r1", now)));
        Assert.Equal(HttpStatusCode.Unauthorized, (await AskAsync(LicenseToken.Create("another-secret", "r1", now))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await AskAsync(LicenseToken.Create("licence-secret", "r2", now))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await AskAsync(LicenseToken.Create("licence-secret", "r1", now - TimeSpan.FromMinutes(5)))).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await AskAsync("not.a-token")).Status);

        api.ExpireLicense("r1");
        Assert.Equal((HttpStatusCode.OK, """{"valid":false}"""), await AskAsync(LicenseToken.Create("licence-secret", "r1", now)));
    }

    [Fact]
    public async Task Replica_list_pages_with_total_and_carries_extra_fields()
    {
        await using var api = await FakeSensayApi.StartAsync(new FakeSensayOptions { ApiKey = Key }, Ct);
        api.SetReplicas([
            new("r1", "one", "1:a"),
            new("r2", "two", null),
            new("r3", "three", "3:c", ServiceName: null),
            new("r4", "four", null, HasTelegramIntegration: false),
            new("r5", "five", "5:e"),
        ]);
        using var http = Client(api);

        var page1 = await http.GetFromJsonAsync<JsonObject>("/v1/replicas?integration=telegram&page=1&page_size=2", Ct);
        var page3 = await http.GetFromJsonAsync<JsonObject>("/v1/replicas?integration=telegram&page=3&page_size=2", Ct);
        var page4 = await http.GetFromJsonAsync<JsonObject>("/v1/replicas?integration=telegram&page=4&page_size=2", Ct);

        Assert.Equal(5, (int)page1!["total"]!);
        Assert.Equal(["r1", "r2"], page1["items"]!.AsArray().Select(i => (string)i!["uuid"]!));
        Assert.NotNull(page1["items"]![0]!["discord_integration"]);
        Assert.Null(page1["items"]![1]!["telegram_integration"]!["token"]);
        Assert.Equal("r5", (string)Assert.Single(page3!["items"]!.AsArray())!["uuid"]!);
        Assert.Empty(page4!["items"]!.AsArray());
    }

    [Fact]
    public async Task Requests_without_the_secret_get_401_and_injected_faults_hit_the_given_page()
    {
        await using var api = await FakeSensayApi.StartAsync(new FakeSensayOptions { ApiKey = Key }, Ct);
        api.SetReplicas([new("r1", "one", "1:a"), new("r2", "two", "2:b")]);
        api.InjectFault(SensayRoute.ReplicaList, new SensayFault { Page = 2, StatusCode = 500 });
        using var http = Client(api);
        using var anonymous = new HttpClient { BaseAddress = api.BaseUrl };

        var unauthorized = await anonymous.GetAsync(new Uri("/v1/replicas?page=1&page_size=1", UriKind.Relative), Ct);
        var page1 = await http.GetAsync(new Uri("/v1/replicas?page=1&page_size=1", UriKind.Relative), Ct);
        var page2 = await http.GetAsync(new Uri("/v1/replicas?page=2&page_size=1", UriKind.Relative), Ct);
        var retry = await http.GetAsync(new Uri("/v1/replicas?page=2&page_size=1", UriKind.Relative), Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, unauthorized.StatusCode);
        Assert.Equal(HttpStatusCode.OK, page1.StatusCode);
        Assert.Equal(HttpStatusCode.InternalServerError, page2.StatusCode);
        var error = await page2.Content.ReadFromJsonAsync<JsonObject>(Ct);
        Assert.False((bool)error!["success"]!);
        Assert.False(string.IsNullOrEmpty((string?)error["request_id"]));
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        var recorded = await api.WaitForRequestAsync(r => r.PathAndQuery.Contains("page=2", StringComparison.Ordinal), cancellationToken: Ct);
        Assert.Equal(SensayRoute.ReplicaList, recorded.Route);
    }

    [Fact]
    public async Task Users_are_401_until_created_and_409_when_created_twice()
    {
        await using var api = await FakeSensayApi.StartAsync(new FakeSensayOptions { ApiKey = Key }, Ct);
        using var http = Client(api);
        using var me = new HttpRequestMessage(HttpMethod.Get, "/v1/users/me") { Headers = { { "X-USER-ID", "42" }, { "X-USER-ID-TYPE", "telegram" } } };
        var body = new { linkedAccounts = new[] { new { accountID = "42", accountType = "telegram" } } };

        var before = await http.SendAsync(me, Ct);
        var created = await http.PostAsJsonAsync("/v1/users", body, Ct);
        var again = await http.PostAsJsonAsync("/v1/users", body, Ct);
        using var meAgain = new HttpRequestMessage(HttpMethod.Get, "/v1/users/me") { Headers = { { "X-USER-ID", "42" } } };
        var after = await http.SendAsync(meAgain, Ct);

        Assert.Equal(
            [HttpStatusCode.Unauthorized, HttpStatusCode.OK, HttpStatusCode.Conflict, HttpStatusCode.OK],
            new[] { before.StatusCode, created.StatusCode, again.StatusCode, after.StatusCode });
        Assert.True(api.HasUser("42"));
    }

    [Fact]
    public async Task Completion_uses_the_handler_and_404s_unknown_replicas()
    {
        await using var api = await FakeSensayApi.StartAsync(cancellationToken: Ct);
        api.AddReplica(new("r1", "one", "1:a"));
        var release = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        api.CompletionHandler = (_, ct) => release.Task.WaitAsync(ct);
        using var http = Client(api);
        var request = new { content = "hi", skip_chat_history = false, telegram_data = new { chat_type = "private", chat_id = 42, user_id = 42, message_id = 7 } };

        var pending = http.PostAsJsonAsync("/v1/replicas/r1/chat/completions/telegram", request, Ct);
        var received = await api.WaitForCompletionAsync(c => c.Content == "hi", cancellationToken: Ct);
        Assert.False(pending.IsCompleted);
        release.SetResult("Hello Alice");
        var answer = await (await pending).Content.ReadFromJsonAsync<JsonObject>(Ct);
        var unknown = await http.PostAsJsonAsync("/v1/replicas/nope/chat/completions/telegram", request, Ct);

        Assert.Equal(("private", 42L, 7L), (received.TelegramData!.ChatType, received.TelegramData.ChatId, received.TelegramData.MessageId));
        Assert.Equal("Hello Alice", (string)answer!["content"]!);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
    }
}

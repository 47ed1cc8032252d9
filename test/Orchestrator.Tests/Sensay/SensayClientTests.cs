using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Sensay;
using Orchestrator.Tests.Telegram;

namespace Orchestrator.Tests.Sensay;

public sealed class SensayClientTests
{
    private const string ApiKey = "sk-ORG-SECRET-123";

    private static readonly TelegramChatContext Chat = new("supergroup", -100123, "Readers", 42, "alice", 7, 3);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static (ISensayClient Client, ServiceProvider Provider) Create(StubHttpHandler handler, Action<SensayOptions>? configure = null)
    {
        var services = new ServiceCollection();
        services.AddLogging();
        services.AddSensayClient(o =>
        {
            o.BaseUrl = new Uri("http://sensay.test/");
            o.ApiKey = ApiKey;
            o.RetryDelay = TimeSpan.Zero;
            configure?.Invoke(o);
        }).ConfigurePrimaryHttpMessageHandler(() => handler);
        var provider = services.BuildServiceProvider();
        return (provider.GetRequiredService<ISensayClient>(), provider);
    }

    private static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) => StubHttpHandler.Json(status, json);

    [Fact]
    public async Task Replica_page_request_carries_the_organisation_headers_and_paging()
    {
        var handler = new StubHttpHandler((_, _) => Json("""{"success":true,"type":"replicas","items":[],"total":0}"""));
        var (client, provider) = Create(handler);
        using var _ = provider;

        await client.GetReplicasPageAsync(2, 100, Ct);

        var request = Assert.Single(handler.Sent);
        Assert.Equal(HttpMethod.Get, request.Method);
        Assert.Equal("/v1/replicas", request.Uri.AbsolutePath);
        Assert.Contains("integration=telegram", request.Uri.Query, StringComparison.Ordinal);
        Assert.Contains("page=2", request.Uri.Query, StringComparison.Ordinal);
        Assert.Contains("page_size=100", request.Uri.Query, StringComparison.Ordinal);
        Assert.Equal(ApiKey, request.Header("X-ORGANIZATION-SECRET"));
        Assert.Equal("2025-04-01", request.Header("X-API-VERSION"));
        Assert.Null(request.Header("X-USER-ID"));
    }

    [Fact]
    public async Task Replica_page_tolerates_unknown_fields_and_null_integrations()
    {
        var handler = new StubHttpHandler((_, _) => Json("""
            {"success":true,"type":"replicas","total":1234,"extra":{"x":[1,2]},
             "items":[
               {"uuid":"r1","slug":"ada","name":"Ada","owner_uuid":"o1","greeting":"hi","tags":["a"],"discord_integration":{"token":"d"},
                "telegram_integration":{"token":"1001:abc","service_name":"sensay-telegram-integrations","extra":true}},
               {"uuid":"r2","slug":"bob","owner_uuid":null,"telegram_integration":null},
               {"uuid":"r3","slug":"cid","telegram_integration":{"token":null,"service_name":null}},
               {"slug":"no-uuid"},
               null
             ]}
            """));
        var (client, provider) = Create(handler);
        using var _ = provider;

        var page = await client.GetReplicasPageAsync(1, 100, Ct);

        Assert.Equal(1234, page.Total);
        Assert.Equal(
            [
                new SensayReplica("r1", "ada", "o1", "1001:abc", "sensay-telegram-integrations"),
                new SensayReplica("r2", "bob", null, null, null),
                new SensayReplica("r3", "cid", null, null, null),
            ],
            page.Items);
        Assert.DoesNotContain("1001:abc", page.Items[0].ToString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"items\":[{\"uuid\":")]
    [InlineData("<html>oops</html>")]
    [InlineData("{\"success\":true,\"total\":3}")]
    [InlineData("{\"items\":[],\"total\":\"many\"}")]
    public async Task Malformed_replica_page_throws_a_sensay_exception(string body)
    {
        var handler = new StubHttpHandler((_, _) => Json(body));
        var (client, provider) = Create(handler);
        using var _ = provider;

        await Assert.ThrowsAsync<SensayApiException>(() => client.GetReplicasPageAsync(1, 100, Ct));
    }

    [Fact]
    public async Task Get_is_retried_on_server_errors()
    {
        var handler = new StubHttpHandler((_, i) => i < 2
            ? Json("""{"success":false,"error":"busy"}""", HttpStatusCode.ServiceUnavailable)
            : Json("""{"items":[],"total":0}"""));
        var (client, provider) = Create(handler);
        using var _ = provider;

        var page = await client.GetReplicasPageAsync(1, 100, Ct);

        Assert.Equal(0, page.Total);
        Assert.Equal(3, handler.Sent.Count);
    }

    [Fact]
    public async Task Completion_sends_user_headers_and_telegram_data()
    {
        var handler = new StubHttpHandler((_, _) => Json("""{"success":true,"content":"the answer"}"""));
        var (client, provider) = Create(handler);
        using var _ = provider;

        var answer = await client.GetCompletionAsync("r1", Chat, "hello", null, Ct);

        Assert.Equal("the answer", answer);
        var request = Assert.Single(handler.Sent);
        Assert.Equal(HttpMethod.Post, request.Method);
        Assert.Equal("/v1/replicas/r1/chat/completions/telegram", request.Uri.AbsolutePath);
        Assert.Equal("42", request.Header("X-USER-ID"));
        Assert.Equal("telegram", request.Header("X-USER-ID-TYPE"));
        Assert.Equal(ApiKey, request.Header("X-ORGANIZATION-SECRET"));
        var body = request.Json;
        Assert.Equal("hello", (string?)body["content"]);
        Assert.False((bool?)body["skip_chat_history"]);
        Assert.False(body.ContainsKey("imageURL"));
        var data = body["telegram_data"]!.AsObject();
        Assert.Equal("supergroup", (string?)data["chat_type"]);
        Assert.Equal(-100123, (long?)data["chat_id"]);
        Assert.Equal("Readers", (string?)data["chat_name"]);
        Assert.Equal(42, (long?)data["user_id"]);
        Assert.Equal("alice", (string?)data["username"]);
        Assert.Equal(7, (int?)data["message_id"]);
        Assert.Equal(3, (int?)data["message_thread_id"]);
    }

    [Fact]
    public async Task Completion_with_a_photo_sends_the_image_url()
    {
        var handler = new StubHttpHandler((_, _) => Json("""{"success":true,"content":"a cat"}"""));
        var (client, provider) = Create(handler);
        using var _ = provider;

        await client.GetCompletionAsync("r1", Chat with { MessageThreadId = null }, "what?", "https://files.test/cat.jpg", Ct);

        var body = Assert.Single(handler.Sent).Json;
        Assert.Equal("https://files.test/cat.jpg", (string?)body["imageURL"]);
        Assert.False(body["telegram_data"]!.AsObject().ContainsKey("message_thread_id"));
    }

    [Theory]
    [InlineData("""{"success":true,"content":""}""")]
    [InlineData("""{"success":true}""")]
    [InlineData("""{"success":true,"content":"   "}""")]
    public async Task Empty_completion_content_throws(string body)
    {
        var handler = new StubHttpHandler((_, _) => Json(body));
        var (client, provider) = Create(handler);
        using var _ = provider;

        var exception = await Assert.ThrowsAsync<SensayApiException>(() => client.GetCompletionAsync("r1", Chat, "hello", null, Ct));
        Assert.Contains("empty", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Completion_is_not_retried_after_a_server_error()
    {
        var handler = new StubHttpHandler((_, _) => Json("""{"success":false,"error":"boom","request_id":"req-77"}""", HttpStatusCode.InternalServerError));
        var (client, provider) = Create(handler);
        using var _ = provider;

        var exception = await Assert.ThrowsAsync<SensayApiException>(() => client.GetCompletionAsync("r1", Chat, "hello", null, Ct));

        Assert.Single(handler.Sent);
        Assert.Equal(HttpStatusCode.InternalServerError, exception.StatusCode);
        Assert.Equal("req-77", exception.RequestId);
        Assert.Contains("boom", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Completion_is_retried_when_the_connection_was_refused()
    {
        var handler = new StubHttpHandler((_, i) => i == 0
            ? Task.FromException<HttpResponseMessage>(new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused", new SocketException((int)SocketError.ConnectionRefused)))
            : Task.FromResult(Json("""{"success":true,"content":"ok"}""")));
        var (client, provider) = Create(handler);
        using var _ = provider;

        Assert.Equal("ok", await client.GetCompletionAsync("r1", Chat, "hello", null, Ct));
        Assert.Equal(2, handler.Sent.Count);
    }

    [Fact]
    public async Task Api_key_never_appears_in_exception_messages()
    {
        var handler = new StubHttpHandler((_, i) => i == 0
            ? Task.FromResult(Json($$"""{"success":false,"error":"invalid secret {{ApiKey}}","request_id":"r"}""", HttpStatusCode.Unauthorized))
            : Task.FromException<HttpResponseMessage>(new HttpRequestException($"failed with header X-ORGANIZATION-SECRET: {ApiKey}")));
        var (client, provider) = Create(handler, o => o.MaxRetries = 0);
        using var _ = provider;

        var first = await Assert.ThrowsAsync<SensayApiException>(() => client.GetCompletionAsync("r1", Chat, "hello", null, Ct));
        var second = await Assert.ThrowsAsync<SensayApiException>(() => client.GetCompletionAsync("r1", Chat, "hello", null, Ct));

        Assert.DoesNotContain(ApiKey, first.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiKey, second.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(ApiKey, first.ToString().Split(" at ")[0], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Chat_history_is_posted_with_user_headers()
    {
        var handler = new StubHttpHandler((_, _) => Json("""{"success":true}"""));
        var (client, provider) = Create(handler);
        using var _ = provider;

        await client.SaveChatHistoryAsync("r1", Chat, "just chatting", Ct);

        var request = Assert.Single(handler.Sent);
        Assert.Equal("/v1/replicas/r1/chat/history/telegram", request.Uri.AbsolutePath);
        Assert.Equal("42", request.Header("X-USER-ID"));
        Assert.Equal("just chatting", (string?)request.Json["content"]);
        Assert.Equal(-100123, (long?)request.Json["telegram_data"]?["chat_id"]);
    }

    [Fact]
    public async Task Unknown_user_is_created_after_a_401()
    {
        var handler = new StubHttpHandler((r, _) => r.Method == HttpMethod.Get
            ? Json("""{"success":false,"error":"unknown user"}""", HttpStatusCode.Unauthorized)
            : Json("""{"success":true}"""));
        var (client, provider) = Create(handler);
        using var _ = provider;

        await client.EnsureUserAsync(42, Ct);

        Assert.Equal(2, handler.Sent.Count);
        Assert.Equal("/v1/users/me", handler.Sent[0].Uri.AbsolutePath);
        Assert.Equal("42", handler.Sent[0].Header("X-USER-ID"));
        Assert.Equal("telegram", handler.Sent[0].Header("X-USER-ID-TYPE"));
        Assert.Equal(HttpMethod.Post, handler.Sent[1].Method);
        Assert.Equal("/v1/users", handler.Sent[1].Uri.AbsolutePath);
        var account = handler.Sent[1].Json["linkedAccounts"]![0]!;
        Assert.Equal("42", (string?)account["accountID"]);
        Assert.Equal("telegram", (string?)account["accountType"]);
    }

    [Fact]
    public async Task User_created_concurrently_elsewhere_409_is_success()
    {
        var handler = new StubHttpHandler((r, _) => r.Method == HttpMethod.Get
            ? Json("""{"success":false}""", HttpStatusCode.Unauthorized)
            : Json("""{"success":false,"error":"exists"}""", HttpStatusCode.Conflict));
        var (client, provider) = Create(handler);
        using var _ = provider;

        await client.EnsureUserAsync(42, Ct);

        Assert.Equal(2, handler.Sent.Count);
    }

    [Fact]
    public async Task Known_user_is_not_checked_twice()
    {
        var handler = new StubHttpHandler((_, _) => Json("""{"success":true}"""));
        var (client, provider) = Create(handler);
        using var _ = provider;

        await client.EnsureUserAsync(42, Ct);
        await provider.GetRequiredService<ISensayClient>().EnsureUserAsync(42, Ct);

        var request = Assert.Single(handler.Sent);
        Assert.Equal("/v1/users/me", request.Uri.AbsolutePath);
    }

    [Fact]
    public async Task Failed_user_check_is_not_remembered()
    {
        var handler = new StubHttpHandler((_, i) => i == 0
            ? Json("""{"success":false}""", HttpStatusCode.BadRequest)
            : Json("""{"success":true}"""));
        var (client, provider) = Create(handler);
        using var _ = provider;

        await Assert.ThrowsAsync<SensayApiException>(() => client.EnsureUserAsync(42, Ct));
        await client.EnsureUserAsync(42, Ct);

        Assert.Equal(2, handler.Sent.Count);
    }

    [Fact]
    public async Task Concurrent_first_messages_of_one_user_check_once()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new StubHttpHandler(async (r, _) =>
        {
            await release.Task;
            return r.Method == HttpMethod.Get ? Json("{}", HttpStatusCode.Unauthorized) : Json("{}");
        });
        var (client, provider) = Create(handler);
        using var _ = provider;

        var first = client.EnsureUserAsync(42, Ct);
        var second = provider.GetRequiredService<ISensayClient>().EnsureUserAsync(42, Ct);
        release.SetResult();
        await Task.WhenAll(first, second);

        Assert.Equal(2, handler.Sent.Count); // one GET, one POST
    }

    [Fact]
    public async Task Licence_check_is_skipped_unless_configured()
    {
        var handler = new StubHttpHandler((_, _) => Json("""{"valid":false}"""));
        var (client, provider) = Create(handler, o => o.LicenseBaseUrl = new Uri("http://web.test"));
        using var _ = provider;

        Assert.True(await client.IsLicenseValidAsync("r1", Ct));
        Assert.Empty(handler.Sent);
    }

    [Fact]
    public async Task Licence_check_sends_a_signed_short_lived_jwt_and_no_organisation_secret()
    {
        const string secret = "licence-secret";
        var handler = new StubHttpHandler((_, _) => Json("""{"valid":false}"""));
        var (client, provider) = Create(handler, o =>
        {
            o.LicenseBaseUrl = new Uri("http://web.test");
            o.LicenseSecretKey = secret;
        });
        using var _ = provider;

        Assert.False(await client.IsLicenseValidAsync("r1", Ct));

        var request = Assert.Single(handler.Sent);
        Assert.Equal("http://web.test/api/license/telegram/r1", request.Uri.ToString());
        Assert.Null(request.Header("X-ORGANIZATION-SECRET"));
        var jwt = request.Header("Authorization")!["Bearer ".Length..];
        var segments = jwt.Split('.');
        Assert.Equal(3, segments.Length);
        var expected = Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes($"{segments[0]}.{segments[1]}")))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');
        Assert.Equal(expected, segments[2]);
        var payload = JsonNode.Parse(Convert.FromBase64String(Pad(segments[1].Replace('-', '+').Replace('_', '/'))))!;
        Assert.Equal("r1", (string?)payload["sub"]);
        Assert.InRange((long)payload["exp"]! - (long)payload["iat"]!, 1, 300);
    }

    [Fact]
    public void Secrets_are_masked_in_options_text_and_missing_key_is_reported()
    {
        var options = new SensayOptions { BaseUrl = new Uri("http://sensay.test"), ApiKey = ApiKey, LicenseSecretKey = "s3cr3t" };
        Assert.DoesNotContain(ApiKey, options.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("s3cr3t", options.ToString(), StringComparison.Ordinal);

        var result = new SensayOptionsValidator().Validate(null, new SensayOptions { BaseUrl = new Uri("http://sensay.test") });
        Assert.True(result.Failed);
        Assert.Contains("SENSAY_API_KEY", result.FailureMessage, StringComparison.Ordinal);
    }

    private static string Pad(string base64) => base64.PadRight(base64.Length + ((4 - (base64.Length % 4)) % 4), '=');
}

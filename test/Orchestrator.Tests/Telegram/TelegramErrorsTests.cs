using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orchestrator.Telegram;
using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace Orchestrator.Tests.Telegram;

public sealed class TelegramErrorsTests
{
    private const string RealLookingToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<Exception> FailingCall(HttpResponseMessage response)
    {
        var handler = new StubHttpHandler((_, _) => response);
        var factory = new TelegramClientFactory(new TelegramClientOptions { BaseUrl = "http://telegram.test" }, handler);
        var client = factory.Create(Tg.Token);
        return await Assert.ThrowsAnyAsync<Exception>(() => client.GetMe(Ct));
    }

    [Theory]
    [InlineData(401, "Unauthorized", TelegramErrorKind.Unauthorized)]
    [InlineData(403, "Forbidden: bot was kicked from the group chat", TelegramErrorKind.Forbidden)]
    [InlineData(409, "Conflict: terminated by other getUpdates request", TelegramErrorKind.Conflict)]
    [InlineData(400, "Bad Request: chat not found", TelegramErrorKind.BadRequest)]
    [InlineData(500, "Internal Server Error", TelegramErrorKind.ServerError)]
    [InlineData(502, "Bad Gateway", TelegramErrorKind.ServerError)]
    [InlineData(404, "Not Found", TelegramErrorKind.Other)]
    public async Task Telegram_answers_are_classified_by_error_code(int code, string description, TelegramErrorKind kind)
    {
        var error = TelegramErrors.Classify(await FailingCall(Tg.Error(code, description)));

        Assert.Equal(kind, error.Kind);
        Assert.Equal(code, error.ErrorCode);
        Assert.Equal(description, error.Description);
    }

    [Fact]
    public async Task Too_many_requests_carries_retry_after()
    {
        var error = TelegramErrors.Classify(await FailingCall(Tg.Error(429, "Too Many Requests: retry after 5", """{"retry_after":5}""")));

        Assert.Equal(TelegramErrorKind.TooManyRequests, error.Kind);
        Assert.Equal(TimeSpan.FromSeconds(5), error.RetryAfter);
        Assert.True(error.IsTransient);
    }

    [Fact]
    public void Too_many_requests_without_retry_after_gets_a_default_wait()
    {
        var error = TelegramErrors.Classify(new ApiRequestException("Too Many Requests", 429));

        Assert.Equal(TelegramErrors.DefaultRetryAfter, error.RetryAfter);
    }

    [Fact]
    public async Task Migration_carries_the_new_chat_id()
    {
        var error = TelegramErrors.Classify(await FailingCall(Tg.Error(400, "Bad Request: group chat was upgraded to a supergroup chat", """{"migrate_to_chat_id":-1001234}""")));

        Assert.Equal(TelegramErrorKind.MigrateToChat, error.Kind);
        Assert.Equal(-1001234, error.MigrateToChatId);
    }

    [Theory]
    [InlineData("Bad Request: message thread not found", true, false, false)]
    [InlineData("Bad Request: message to be replied not found", false, true, false)]
    [InlineData("Bad Request: can't parse entities: Can't find end of the entity starting at byte offset 3", false, false, true)]
    [InlineData("Bad Request: chat not found", false, false, false)]
    public void Bad_request_helpers_recognise_the_descriptions(string description, bool thread, bool reply, bool entities)
    {
        var error = TelegramErrors.Classify(new ApiRequestException(description, 400));

        Assert.Equal(thread, error.IsThreadNotFound);
        Assert.Equal(reply, error.IsReplyNotFound);
        Assert.Equal(entities, error.IsCantParseEntities);
    }

    [Fact]
    public async Task Html_body_from_a_proxy_is_a_transport_error()
    {
        var error = TelegramErrors.Classify(await FailingCall(StubHttpHandler.Json(HttpStatusCode.BadGateway, "<html>502</html>")));

        Assert.Equal(TelegramErrorKind.Transport, error.Kind);
        Assert.Equal(502, error.ErrorCode);
        Assert.True(error.IsTransient);
    }

    [Fact]
    public async Task Connection_failure_is_a_transport_error_without_the_token()
    {
        var handler = new StubHttpHandler((r, _) => Task.FromException<HttpResponseMessage>(new HttpRequestException($"Connection refused ({r.Uri})")));
        var factory = new TelegramClientFactory(new TelegramClientOptions { BaseUrl = "http://telegram.test" }, handler);

        var exception = await Assert.ThrowsAnyAsync<Exception>(() => factory.Create(Tg.Token).GetMe(Ct));
        var error = TelegramErrors.Classify(exception);

        Assert.Equal(TelegramErrorKind.Transport, error.Kind);
        Assert.DoesNotContain("test-token-secret", error.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Http_client_timeout_is_transport_and_caller_cancellation_is_cancelled()
    {
        Assert.Equal(TelegramErrorKind.Transport, TelegramErrors.Classify(new RequestException("Bot API Request timed out", new TaskCanceledException())).Kind);
        Assert.Equal(TelegramErrorKind.Cancelled, TelegramErrors.Classify(new TaskCanceledException()).Kind);
    }

    [Theory]
    [InlineData("GET https://api.telegram.org/bot" + RealLookingToken + "/getUpdates failed")]
    [InlineData("token " + RealLookingToken + " is wrong")]
    [InlineData("http://127.0.0.1:5000/file/bot" + RealLookingToken + "/photos/a.jpg")]
    public void Redact_removes_tokens_and_bot_urls(string text)
    {
        var redacted = TelegramErrors.Redact(text);

        Assert.DoesNotContain("AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsaw", redacted, StringComparison.Ordinal);
        Assert.DoesNotContain("123456789:", redacted, StringComparison.Ordinal);
    }

    [Fact]
    public void Redact_removes_a_short_test_token_in_a_bot_url_and_an_exact_known_token()
    {
        Assert.Equal("http://x/bot***/getMe", TelegramErrors.Redact("http://x/bot1001:abc/getMe"));
        Assert.Equal("token *** here", TelegramErrors.Redact("token 1001:abc here", "1001:abc"));
        Assert.Equal("nothing secret", TelegramErrors.Redact("nothing secret"));
    }
}

public sealed class TelegramClientFactoryTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Clients_share_one_http_client_and_use_the_base_url()
    {
        var handler = new StubHttpHandler((_, _) => Tg.Ok("""{"id":1001,"is_bot":true,"first_name":"Replica","username":"ReplicaBot"}"""));
        using var factory = new TelegramClientFactory(new TelegramClientOptions { BaseUrl = "http://127.0.0.1:5123" }, handler);

        User me = await factory.Create(Tg.Token).GetMe(Ct);
        await factory.Create("1002:other").GetMe(Ct);

        Assert.Equal("ReplicaBot", me.Username);
        Assert.Equal(
            ["http://127.0.0.1:5123/bot1001:test-token-secret/getMe", "http://127.0.0.1:5123/bot1002:other/getMe"],
            handler.Sent.Select(r => r.Uri.ToString()));
    }

    [Fact]
    public async Task A_call_times_out_as_a_request_error_while_a_long_poll_is_left_to_its_bot()
    {
        var pollAnswer = new TaskCompletionSource<HttpResponseMessage>(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new NeverAnsweringCalls(pollAnswer.Task);
        var options = new TelegramClientOptions { BaseUrl = "http://telegram.test", CallTimeout = TimeSpan.FromMilliseconds(200) };
        using var factory = new TelegramClientFactory(options, handler);
        var client = factory.Create(Tg.Token);

        var poll = factory.CreatePoller(Tg.Token, [UpdateType.Message]).GetUpdatesAsync(offset: 0, limit: 100, timeout: 50, Ct);
        var error = await Assert.ThrowsAsync<RequestException>(() => client.SendMessage(1, "hi", cancellationToken: Ct));

        Assert.Contains("timed out", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Tg.Token, error.ToString(), StringComparison.Ordinal);
        Assert.False(poll.IsCompleted, "the call timeout cut the long poll");
        pollAnswer.SetResult(Tg.Ok("[]"));
        Assert.Empty(await poll);
        Assert.Equal(Timeout.InfiniteTimeSpan, factory.HttpClient.Timeout);
    }

    /// <summary>getUpdates gets <c>pollAnswer</c>; any other call never answers (until cancelled).</summary>
    private sealed class NeverAnsweringCalls(Task<HttpResponseMessage> pollAnswer) : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (request.RequestUri!.AbsolutePath.EndsWith("/getUpdates", StringComparison.Ordinal))
            {
                return await pollAnswer.WaitAsync(cancellationToken);
            }

            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }

    [Fact]
    public async Task Built_in_rate_limit_retries_are_off()
    {
        var handler = new StubHttpHandler((_, _) => Tg.Error(429, "Too Many Requests: retry after 1", """{"retry_after":1}"""));
        using var factory = new TelegramClientFactory(new TelegramClientOptions { BaseUrl = "http://telegram.test" }, handler);

        await Assert.ThrowsAsync<ApiRequestException>(() => factory.Create(Tg.Token).GetMe(Ct));

        Assert.Single(handler.Sent);
    }

    [Fact]
    public void Malformed_token_is_rejected_without_echoing_it()
    {
        using var factory = new TelegramClientFactory(new TelegramClientOptions(), new StubHttpHandler((_, _) => Tg.True()));

        var exception = Assert.ThrowsAny<ArgumentException>(() => factory.Create("not-a-token-SECRET"));

        Assert.DoesNotContain("SECRET", exception.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_are_registered_and_validated()
    {
        var services = new ServiceCollection();
        services.AddTelegramClients(o => o.PollTimeoutSeconds = 51);
        using var provider = services.BuildServiceProvider();

        var exception = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<TelegramClientOptions>>().Value);
        Assert.Contains("between 1 and 50", exception.Message, StringComparison.Ordinal);

        var ok = new ServiceCollection();
        ok.AddTelegramClients(o => o.BaseUrl = "http://127.0.0.1:9000");
        using var okProvider = ok.BuildServiceProvider();
        Assert.NotNull(okProvider.GetRequiredService<TelegramClientFactory>());
    }
}

using System.Net;
using System.Web;
using Orchestrator.Telegram;
using Telegram.Bot;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types.Enums;

namespace Orchestrator.Tests.Telegram;

public sealed class TelegramPollerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static TelegramClientFactory Factory(HttpMessageHandler handler) =>
        new(new TelegramClientOptions { BaseUrl = "http://127.0.0.1:5123" }, handler);

    [Fact]
    public async Task A_poll_is_a_get_with_its_parameters_in_the_query_and_no_body()
    {
        var handler = new StubHttpHandler((_, _) => Tg.Ok(Tg.OneUpdate));
        using var factory = Factory(handler);

        var updates = await factory.CreatePoller(Tg.Token, [UpdateType.Message]).GetUpdatesAsync(offset: 7, limit: 100, timeout: 50, Ct);

        Assert.Equal(7, Assert.Single(updates).Id);
        Assert.Equal("hi", updates[0].Message?.Text);
        var sent = Assert.Single(handler.Sent);
        Assert.Equal(HttpMethod.Get, sent.Method);
        Assert.Equal(string.Empty, sent.Body);
        Assert.Equal("/bot1001:test-token-secret/getUpdates", sent.Uri.AbsolutePath);
        var query = HttpUtility.ParseQueryString(sent.Uri.Query);
        Assert.Equal(("7", "50", """["message"]"""), (query["offset"], query["timeout"], query["allowed_updates"]));
        Assert.Null(query["limit"]); // Telegram's default, 100
    }

    [Fact]
    public async Task Allowed_updates_are_sent_until_telegram_answered_once_then_left_to_telegram_which_keeps_them()
    {
        var handler = new StubHttpHandler((_, index) => index == 0 ? Tg.Error(502, "Bad Gateway") : Tg.Ok("[]"));
        using var factory = Factory(handler);
        var poller = factory.CreatePoller(Tg.Token, [UpdateType.Message]);

        await Assert.ThrowsAsync<ApiRequestException>(() => poller.GetUpdatesAsync(offset: 0, limit: 100, timeout: 50, Ct).AsTask());
        await poller.GetUpdatesAsync(offset: 0, limit: 100, timeout: 50, Ct);
        await poller.GetUpdatesAsync(offset: 0, limit: 1, timeout: 0, Ct);

        var queries = handler.Sent.Select(r => HttpUtility.ParseQueryString(r.Uri.Query)).ToList();
        Assert.Equal([@"[""message""]", @"[""message""]", null], queries.Select(q => q["allowed_updates"]));
        Assert.Equal("1", queries[2]["limit"]);
    }

    [Fact]
    public async Task The_uri_is_built_once_per_query_and_reused_while_it_repeats()
    {
        var handler = new StubHttpHandler((_, _) => Tg.Ok("[]"));
        using var factory = Factory(handler);
        var poller = factory.CreatePoller(Tg.Token, [UpdateType.Message]);

        await poller.GetUpdatesAsync(offset: 3, limit: 100, timeout: 50, Ct); // with allowed_updates
        await poller.GetUpdatesAsync(offset: 3, limit: 100, timeout: 50, Ct);
        await poller.GetUpdatesAsync(offset: 3, limit: 100, timeout: 50, Ct);
        await poller.GetUpdatesAsync(offset: 4, limit: 100, timeout: 50, Ct);
        await poller.GetUpdatesAsync(offset: 4, limit: 100, timeout: 0, Ct);

        var uris = handler.Sent.Select(r => r.Uri).ToList();
        Assert.Same(uris[1], uris[2]);
        Assert.NotSame(uris[2], uris[3]);
        Assert.Contains("offset=4", uris[3].Query, StringComparison.Ordinal);
        Assert.Contains("timeout=0", uris[4].Query, StringComparison.Ordinal);
    }

    public static TheoryData<int, string, string?> TelegramErrors => new()
    {
        { 401, "Unauthorized", null },
        { 409, "Conflict: terminated by other getUpdates request", null },
        { 429, "Too Many Requests: retry after 5", """{"retry_after":5}""" },
        { 502, "Bad Gateway", null },
        { 404, "Not Found", null },
    };

    [Theory]
    [MemberData(nameof(TelegramErrors))]
    public async Task Telegram_errors_are_thrown_as_telegram_bot_does(int code, string description, string? parameters)
    {
        var handler = new StubHttpHandler((_, _) => Tg.Error(code, description, parameters));
        using var factory = Factory(handler);

        var fromPoller = await Assert.ThrowsAsync<ApiRequestException>(
            () => factory.CreatePoller(Tg.Token, [UpdateType.Message]).GetUpdatesAsync(offset: 0, limit: 100, timeout: 50, Ct).AsTask());
        var fromClient = await Assert.ThrowsAsync<ApiRequestException>(() => factory.Create(Tg.Token).GetUpdates(cancellationToken: Ct));

        Assert.Equal((code, description), (fromPoller.ErrorCode, fromPoller.Message));
        Assert.Equal(fromClient.Parameters?.RetryAfter, fromPoller.Parameters?.RetryAfter);
        Assert.Equal(Orchestrator.Telegram.TelegramErrors.Classify(fromClient), Orchestrator.Telegram.TelegramErrors.Classify(fromPoller));
    }

    [Theory]
    [InlineData(HttpStatusCode.BadGateway, "<html>502 Bad Gateway</html>")]
    [InlineData(HttpStatusCode.OK, """{"ok":true}""")]
    [InlineData(HttpStatusCode.OK, "")]
    public async Task An_answer_that_is_not_the_bot_api_is_a_transport_error(HttpStatusCode status, string body)
    {
        var handler = new StubHttpHandler((_, _) => StubHttpHandler.Json(status, body));
        using var factory = Factory(handler);

        var exception = await Assert.ThrowsAsync<RequestException>(
            () => factory.CreatePoller(Tg.Token, [UpdateType.Message]).GetUpdatesAsync(offset: 0, limit: 100, timeout: 50, Ct).AsTask());

        var error = Orchestrator.Telegram.TelegramErrors.Classify(exception);
        Assert.Equal(TelegramErrorKind.Transport, error.Kind);
        Assert.Equal((int)status, error.ErrorCode);
        Assert.True(error.IsTransient);
    }

    [Fact]
    public async Task A_connection_failure_is_a_transport_error_without_the_token()
    {
        var handler = new StubHttpHandler((r, _) => Task.FromException<HttpResponseMessage>(new HttpRequestException($"Connection refused ({r.Uri.Host})")));
        using var factory = Factory(handler);

        var exception = await Assert.ThrowsAsync<RequestException>(
            () => factory.CreatePoller(Tg.Token, [UpdateType.Message]).GetUpdatesAsync(offset: 0, limit: 100, timeout: 50, Ct).AsTask());

        Assert.Equal(TelegramErrorKind.Transport, Orchestrator.Telegram.TelegramErrors.Classify(exception).Kind);
        Assert.DoesNotContain("test-token-secret", exception.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancelling_a_pending_poll_throws_operation_cancelled()
    {
        using var factory = Factory(new NeverAnswering());
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var poll = factory.CreatePoller(Tg.Token, [UpdateType.Message]).GetUpdatesAsync(offset: 0, limit: 100, timeout: 50, cancel.Token);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => poll.AsTask());
    }

    [Fact]
    public void A_malformed_token_is_rejected_without_echoing_it()
    {
        var handler = new StubHttpHandler((_, _) => Tg.Ok("[]"));
        using var factory = Factory(handler);

        var exception = Assert.ThrowsAny<ArgumentException>(() => factory.CreatePoller("not-a-token-SECRET", [UpdateType.Message]));

        Assert.DoesNotContain("SECRET", exception.Message, StringComparison.Ordinal);
    }

    /// <summary>Answers no request; a cancelled one ends as the HTTP stack ends it.</summary>
    private sealed class NeverAnswering : HttpMessageHandler
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            await Task.Delay(Timeout.InfiniteTimeSpan, cancellationToken);
            throw new InvalidOperationException("unreachable");
        }
    }
}

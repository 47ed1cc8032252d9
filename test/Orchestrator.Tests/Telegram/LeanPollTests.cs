using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Web;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orchestrator.Fakes;
using Orchestrator.Telegram;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types.Enums;

namespace Orchestrator.Tests.Telegram;

/// <summary>
/// The long polls' own HTTP/2 client (<see cref="TelegramClientOptions.LeanPolls"/>) against a real HTTP/2 server
/// (Kestrel over TLS), scripted per test: what it sends, what it makes of the answers, and how it shares connections.
/// </summary>
public sealed class LeanPollTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_poll_is_a_get_with_its_parameters_in_the_path_over_one_http2_connection()
    {
        var seen = new ConcurrentQueue<(string Method, string Protocol, string Path, string Query)>();
        await using var server = await H2Server.StartAsync(async context =>
        {
            seen.Enqueue((context.Request.Method, context.Request.Protocol, context.Request.Path.Value!, context.Request.QueryString.Value!));
            await Ok(context, Tg.OneUpdate);
        });
        using var factory = server.Factory();
        var poller = factory.CreatePoller(Tg.Token, [UpdateType.Message]);

        var first = await poller.GetUpdatesAsync(offset: 7, limit: 100, timeout: 50, Ct);
        var second = await poller.GetUpdatesAsync(offset: 8, limit: 1, timeout: 0, Ct);

        Assert.Equal("hi", Assert.Single(first).Message?.Text);
        Assert.Single(second);
        Assert.Equal(1, factory.LeanPollConnections);
        var requests = seen.ToArray();
        Assert.All(requests, r => Assert.Equal(("GET", "HTTP/2", "/bot1001:test-token-secret/getUpdates"), (r.Method, r.Protocol, r.Path)));
        var queries = requests.Select(r => HttpUtility.ParseQueryString(r.Query)).ToArray();
        Assert.Equal(("7", "50", null, """["message"]"""), (queries[0]["offset"], queries[0]["timeout"], queries[0]["limit"], queries[0]["allowed_updates"]));
        Assert.Equal(("8", "0", "1", null), (queries[1]["offset"], queries[1]["timeout"], queries[1]["limit"], queries[1]["allowed_updates"]));
    }

    [Fact]
    public async Task A_path_longer_than_a_one_byte_hpack_length_is_sent_whole()
    {
        // A production token and every update type: a :path of several hundred bytes, whose length takes more than
        // one byte in the header block.
        var token = "123456789:" + new string('A', 35);
        UpdateType[] types = [.. Enum.GetValues<UpdateType>().Where(t => t != UpdateType.Unknown)];
        var seen = new ConcurrentQueue<string>();
        await using var server = await H2Server.StartAsync(context =>
        {
            seen.Enqueue(context.Request.Path.Value + context.Request.QueryString.Value);
            return Ok(context, "[]");
        });
        using var factory = server.Factory();

        Assert.Empty(await factory.CreatePoller(token, types).GetUpdatesAsync(offset: 123456, limit: 100, timeout: 50, Ct));

        var sent = Assert.Single(seen);
        Assert.True(sent.Length > 255, $"only {sent.Length} bytes");
        Assert.StartsWith($"/bot{token}/getUpdates?offset=123456&timeout=50&allowed_updates=", sent, StringComparison.Ordinal);
        var allowed = HttpUtility.ParseQueryString(sent[sent.IndexOf('?', StringComparison.Ordinal)..])["allowed_updates"];
        Assert.Equal(types.Length, System.Text.Json.JsonDocument.Parse(allowed!).RootElement.GetArrayLength());
    }

    [Theory]
    [MemberData(nameof(TelegramPollerTests.TelegramErrors), MemberType = typeof(TelegramPollerTests))]
    public async Task Telegram_errors_are_thrown_as_over_any_other_transport(int code, string description, string? parameters)
    {
        await using var server = await H2Server.StartAsync(context =>
        {
            context.Response.StatusCode = code;
            return Write(context, Tg.ErrorJson(code, description, parameters));
        });
        using var factory = server.Factory();

        var error = await Assert.ThrowsAsync<ApiRequestException>(
            () => factory.CreatePoller(Tg.Token, [UpdateType.Message]).GetUpdatesAsync(offset: 0, limit: 100, timeout: 50, Ct).AsTask());

        Assert.Equal((code, description), (error.ErrorCode, error.Message));
        Assert.Equal(parameters is null ? null : 5, error.Parameters?.RetryAfter); // the shared cases' only parameter
        Assert.Equal(1, factory.LeanPollConnections);
    }

    [Fact]
    public async Task A_proxy_error_page_is_a_transient_transport_error_with_its_status_and_without_the_token()
    {
        await using var server = await H2Server.StartAsync(context =>
        {
            context.Response.StatusCode = 502;
            context.Response.ContentType = "text/html";
            return context.Response.WriteAsync("<html>502 Bad Gateway</html>");
        });
        using var factory = server.Factory();

        var exception = await Assert.ThrowsAsync<RequestException>(
            () => factory.CreatePoller(Tg.Token, [UpdateType.Message]).GetUpdatesAsync(offset: 0, limit: 100, timeout: 50, Ct).AsTask());

        var error = Orchestrator.Telegram.TelegramErrors.Classify(exception);
        Assert.Equal((TelegramErrorKind.Transport, 502, true), (error.Kind, error.ErrorCode, error.IsTransient));
        Assert.DoesNotContain("test-token-secret", exception.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_answer_larger_than_a_frame_and_a_window_arrives_whole()
    {
        // 100 updates of 52,000 characters: ~5.2 MB an answer, more than a stream's 4 MiB receive window, and three
        // answers more than the connection's 16 MiB: the server stalls unless the client replenishes both windows.
        var text = new string('x', 52_000);
        var updates = "[" + string.Join(",", Enumerable.Range(1, 100).Select(i =>
            $$$"""{"update_id":{{{i}}},"message":{"message_id":{{{i}}},"date":1700000000,"chat":{"id":42,"type":"private"},"text":"{{{text}}}"}}""")) + "]";
        await using var server = await H2Server.StartAsync(context => Ok(context, updates));
        using var factory = server.Factory();
        var poller = factory.CreatePoller(Tg.Token, [UpdateType.Message]);

        for (var round = 0; round < 3; round++)
        {
            var received = await poller.GetUpdatesAsync(offset: 0, limit: 100, timeout: 50, Ct);
            Assert.Equal(Enumerable.Range(1, 100), received.Select(u => u.Id));
            Assert.All(received, u => Assert.Equal(text, u.Message?.Text));
        }
    }

    [Fact]
    public async Task Cancelling_a_pending_poll_resets_its_stream_and_the_next_poll_goes_through()
    {
        var aborted = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var arrived = new SemaphoreSlim(0);
        await using var server = await H2Server.StartAsync(async context =>
        {
            if (context.Request.Query["timeout"] == "50")
            {
                arrived.Release();
                try
                {
                    await Task.Delay(Timeout.InfiniteTimeSpan, context.RequestAborted);
                }
                catch (OperationCanceledException)
                {
                    aborted.TrySetResult();
                }

                return;
            }

            await Ok(context, Tg.OneUpdate);
        });
        using var factory = server.Factory();
        var poller = factory.CreatePoller(Tg.Token, [UpdateType.Message]);
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(Ct);

        var poll = poller.GetUpdatesAsync(offset: 0, limit: 100, timeout: 50, cancel.Token).AsTask();
        await arrived.WaitAsync(Ct);
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => poll);
        await aborted.Task.WaitAsync(Ct); // the server saw the stream reset, not a hung request
        Assert.Single(await poller.GetUpdatesAsync(offset: 0, limit: 100, timeout: 0, Ct));
        Assert.Equal(1, factory.LeanPollConnections);
    }

    [Fact]
    public async Task A_start_storm_beyond_a_connections_stream_limit_opens_just_enough_connections()
    {
        // 25 polls at once against a limit of 10 streams per connection: each new connection waits for the server's
        // SETTINGS before it takes a stream, so none is refused and three connections carry them all.
        const int bots = 25;
        var arrived = new SemaphoreSlim(0);
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await H2Server.StartAsync(
            async context =>
            {
                arrived.Release();
                await release.Task.WaitAsync(context.RequestAborted);
                await Ok(context, Tg.OneUpdate);
            },
            maxStreamsPerConnection: 10);
        using var factory = server.Factory();

        var polls = Enumerable.Range(0, bots)
            .Select(bot => factory.CreatePoller($"{2000 + bot}:secret", [UpdateType.Message]).GetUpdatesAsync(offset: 0, limit: 100, timeout: 50, Ct).AsTask())
            .ToList();
        for (var bot = 0; bot < bots; bot++)
        {
            await arrived.WaitAsync(Ct);
        }

        Assert.Equal(3, factory.LeanPollConnections);
        release.SetResult();
        Assert.All(await Task.WhenAll(polls), updates => Assert.Single(updates));
    }

    [Fact]
    public async Task A_server_that_closes_the_connection_fails_its_pending_polls_as_transport_errors()
    {
        var arrived = new SemaphoreSlim(0);
        var server = await H2Server.StartAsync(async context =>
        {
            arrived.Release();
            await Task.Delay(Timeout.InfiniteTimeSpan, context.RequestAborted);
        });
        using var factory = server.Factory();
        var poll = factory.CreatePoller(Tg.Token, [UpdateType.Message]).GetUpdatesAsync(offset: 0, limit: 100, timeout: 50, Ct).AsTask();
        await arrived.WaitAsync(Ct);

        await server.DisposeAsync();

        var exception = await Assert.ThrowsAsync<RequestException>(() => poll);
        Assert.Equal(TelegramErrorKind.Transport, Orchestrator.Telegram.TelegramErrors.Classify(exception).Kind);
        Assert.DoesNotContain("test-token-secret", exception.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_server_without_http2_is_polled_over_http11()
    {
        var protocols = new ConcurrentQueue<string>();
        await using var server = await H2Server.StartAsync(
            context =>
            {
                protocols.Enqueue(context.Request.Protocol);
                return Ok(context, Tg.OneUpdate);
            },
            protocols: HttpProtocols.Http1);
        using var factory = server.Factory();
        var poller = factory.CreatePoller(Tg.Token, [UpdateType.Message]);

        Assert.Single(await poller.GetUpdatesAsync(offset: 0, limit: 100, timeout: 50, Ct));
        Assert.Single(await poller.GetUpdatesAsync(offset: 8, limit: 100, timeout: 50, Ct));

        Assert.Equal(["HTTP/1.1", "HTTP/1.1"], protocols);
        Assert.Equal(0, factory.LeanPollConnections);
    }

    private static Task Ok(HttpContext context, string resultJson) => Write(context, Tg.OkJson(resultJson));

    private static Task Write(HttpContext context, string json)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsync(json, Encoding.UTF8);
    }

    /// <summary>Kestrel over TLS on a free loopback port, answering every request with a test's handler.</summary>
    private sealed class H2Server : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly string _certificateFile;

        private H2Server(WebApplication app, string certificateFile, Uri address)
        {
            _app = app;
            _certificateFile = certificateFile;
            Address = address;
        }

        public Uri Address { get; }

        public static async Task<H2Server> StartAsync(RequestDelegate handler, HttpProtocols protocols = HttpProtocols.Http1AndHttp2, int maxStreamsPerConnection = 100)
        {
            var certificate = SelfSignedCertificate.Create();
            var certificateFile = Path.Combine(Path.GetTempPath(), $"lean-poll-{Guid.NewGuid():N}.crt");
            SelfSignedCertificate.WritePem(certificate, certificateFile);
            var builder = WebApplication.CreateSlimBuilder();
            builder.Logging.ClearProviders();
            builder.WebHost.UseKestrel(options =>
            {
                options.Limits.Http2.MaxStreamsPerConnection = maxStreamsPerConnection;
                options.Listen(IPAddress.Loopback, 0, listen =>
                {
                    listen.Protocols = protocols;
                    listen.UseHttps(certificate);
                });
            });
            builder.Services.Configure<Microsoft.Extensions.Hosting.HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(1));
            var app = builder.Build();
            app.Run(handler);
            await app.StartAsync(Ct);
            var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single());
            return new H2Server(app, certificateFile, address);
        }

        public TelegramClientFactory Factory() => new(Options.Create(new TelegramClientOptions
        {
            BaseUrl = $"https://127.0.0.1:{Address.Port}",
            UseHttp2 = true,
            TrustedCertificateFile = _certificateFile,
        }));

        public async ValueTask DisposeAsync()
        {
            await _app.DisposeAsync();
            File.Delete(_certificateFile);
        }
    }
}

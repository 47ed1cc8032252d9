using System.Diagnostics;
using Microsoft.Extensions.Options;
using Orchestrator.Fakes;
using Orchestrator.Fakes.Telegram;
using Orchestrator.Telegram;
using Orchestrator.Tests.Infrastructure;
using Telegram.Bot.Exceptions;
using Telegram.Bot.Types.Enums;

namespace Orchestrator.Tests.Telegram;

/// <summary>The shared client over TLS + HTTP/2 against the emulator, the way the host runs it with TELEGRAM_HTTP2.</summary>
public sealed class TelegramHttp2Tests
{
    private const string Token = "1001:secret-one";

    /// <summary>Like the bot loop's poll deadline (poll timeout + grace), shortened.</summary>
    private static readonly TimeSpan PollDeadline = TimeSpan.FromSeconds(3);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_connection_that_goes_silent_is_dropped_so_the_next_poll_reaches_telegram()
    {
        await using var telegram = await TelegramEmulator.StartAsync(new TelegramEmulatorOptions { HttpsPort = 0 }, Ct);
        var certificateFile = Path.Combine(Path.GetTempPath(), $"emulator-{Guid.NewGuid():N}.crt");
        SelfSignedCertificate.WritePem(telegram.Options.Certificate!, certificateFile);
        await using var path = StallingTcpProxy.Start(telegram.HttpsBaseUrl!.Port);
        using var factory = new TelegramClientFactory(Options.Create(new TelegramClientOptions
        {
            BaseUrl = $"https://127.0.0.1:{path.Port}",
            UseHttp2 = true,
            TrustedCertificateFile = certificateFile,
            Http2KeepAlivePingDelay = TimeSpan.FromSeconds(1),
            Http2KeepAlivePingTimeout = TimeSpan.FromSeconds(1),
        }));
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        var polling = PollForeverAsync(factory.CreatePoller(Token, [UpdateType.Message]), stop.Token);
        try
        {
            await telegram.WaitForPendingPollAsync(Token, cancellationToken: Ct);
            Assert.Equal(1, path.ConnectionCount);

            // The connection stays open but carries nothing any more. Cancelling the hung poll at its deadline only
            // resets its stream on that connection; without a keep-alive the next polls would go the same way, and
            // no poll would reach Telegram until the pool retired the connection (PooledConnectionLifetime, 3 min).
            var stalledAt = Stopwatch.GetTimestamp();
            path.StallOpenConnections();

            await telegram.WaitUntilAsync(
                t => t.PendingPollsSince([Token], stalledAt) == 1,
                "a long poll sent after the connection went silent",
                TimeSpan.FromSeconds(20),
                Ct);
            Assert.Equal(2, path.ConnectionCount);
        }
        finally
        {
            await stop.CancelAsync();
            await polling.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing | ConfigureAwaitOptions.ContinueOnCapturedContext);
            File.Delete(certificateFile);
        }
    }

    /// <summary>Long polls like the bot loop: each bounded by a deadline, any failure retried at once.</summary>
    private static async Task PollForeverAsync(TelegramPoller poller, CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            using var call = CancellationTokenSource.CreateLinkedTokenSource(stop);
            call.CancelAfter(PollDeadline);
            try
            {
                await poller.GetUpdatesAsync(offset: 0, limit: 100, timeout: 30, call.Token);
            }
            catch (OperationCanceledException) when (!stop.IsCancellationRequested)
            {
                // Hung past the deadline: poll again.
            }
            catch (RequestException)
            {
                // Transport failure (the connection was closed): poll again.
            }
        }
    }
}

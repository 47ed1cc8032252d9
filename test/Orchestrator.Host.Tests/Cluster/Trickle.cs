using System.Diagnostics;

namespace Orchestrator.Host.Tests.Cluster;

/// <summary>
/// A trickle of user messages: one loop per bot sends a private message, waits for its reply, sends the next. A
/// reply that never comes fails the loop, and <see cref="StopAsync"/> reports it.
/// </summary>
public sealed class Trickle : IAsyncDisposable
{
    private static readonly TimeSpan ReplyTimeout = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan Pace = TimeSpan.FromMilliseconds(1500);
    private readonly ClusterScope _scope;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task[] _loops;

    public Trickle(ClusterScope scope, IEnumerable<string> tokens)
    {
        _scope = scope;
        _loops = tokens.Select(token => Task.Run(() => LoopAsync(token))).ToArray();
    }

    /// <summary>Waits until <paramref name="token"/> answered a message posted after <paramref name="postedBefore"/> messages.</summary>
    public Task WaitForReplyToANewMessageAsync(string token, int postedBefore, TimeSpan timeout) =>
        _scope.Telegram.WaitUntilAsync(
            t =>
            {
                var sent = t.SentMessages(token);
                return t.PostedUpdates(token).Skip(postedBefore).Any(u => sent.Any(m => m.ChatId == u.ChatId && m.ReplyToMessageId == u.MessageId));
            },
            $"a reply of bot {token.Split(':')[0]} to a message sent after the failure",
            timeout);

    /// <summary>Stops sending; waits for the outstanding replies; throws if a loop failed.</summary>
    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_loops).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _stop.Dispose();
    }

    private async Task LoopAsync(string token)
    {
        var n = 0;
        while (!_stop.IsCancellationRequested)
        {
            var watch = Stopwatch.StartNew();
            await _scope.ChatAsync(token, $"trickle {++n}", ReplyTimeout);
            if (watch.Elapsed > TimeSpan.FromSeconds(2))
            {
                _scope.Log($"bot {token.Split(':')[0]}: reply to 'trickle {n}' took {watch.Elapsed.TotalSeconds:0.0} s");
            }

            // Pacing, not synchronisation: a user's pace stays under the flood limit (10 messages in 10 s).
            await Task.Delay(Pace, _stop.Token).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        }
    }
}

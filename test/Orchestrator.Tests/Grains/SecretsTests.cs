using Orchestrator.Fakes.Sensay;
using Orchestrator.Fakes.Telegram;

namespace Orchestrator.Tests.Grains;

[Collection(ClusterCollection.Name)]
public sealed class SecretsTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private TelegramEmulator Telegram => fixture.Telegram;

    [Fact]
    public async Task No_token_or_api_key_reaches_the_logs_on_any_error_path()
    {
        // A rejected token, transport errors and an HTML error page while polling, a photo (whose download URL holds
        // the token), and a Sensay failure (an apology with an error id).
        var rejected = fixture.NewBot();
        var troubled = fixture.NewBot();
        Telegram.RevokeToken(rejected.Token);
        await fixture.Orchestrator.CreateBotAsync(rejected);
        await fixture.Orchestrator.CreateBotAsync(troubled);
        await Telegram.WaitForPendingPollAsync(troubled.Token, Timeout);
        Telegram.InjectFault(troubled.Token, "getUpdates", TelegramFault.Dropped());
        Telegram.InjectFault(troubled.Token, "getUpdates", TelegramFault.HtmlBadGateway());
        Telegram.SendPhoto(troubled.Token, caption: "what is this?");
        await Telegram.WaitForSentMessageAsync(troubled.Token, timeout: Timeout);
        fixture.Sensay.InjectFault(SensayRoute.Completion, new SensayFault { StatusCode = 500, Times = 1 });
        Telegram.SendPrivateText(troubled.Token, "and now?");
        var apology = await Telegram.WaitForSentMessageAsync(troubled.Token, m => m.Text.Contains("error id", StringComparison.Ordinal), Timeout);
        var errorId = apology.Text[(apology.Text.LastIndexOf(':') + 1)..].Trim(' ', ')', '.');
        await fixture.Orchestrator.DeleteBotAsync(rejected.ReplicaUuid);
        await fixture.Orchestrator.DeleteBotAsync(troubled.ReplicaUuid);

        var logs = fixture.Logs.Entries;
        Assert.Contains(logs, l => l.Text.Contains(errorId, StringComparison.Ordinal));
        foreach (var secret in ClusterFixture.IssuedTokens.Append(ClusterFixture.SensayApiKey))
        {
            var secretPart = secret[(secret.IndexOf(':', StringComparison.Ordinal) + 1)..];
            Assert.DoesNotContain(logs, l => l.Text.Contains(secretPart, StringComparison.Ordinal));
        }
    }
}

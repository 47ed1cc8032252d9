using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Abstractions;
using Orchestrator.Fakes.Sensay;
using Orchestrator.Grains.Orchestration;
using Orchestrator.Telegram;
using Orchestrator.Tests.Infrastructure;

namespace Orchestrator.Tests.Grains;

/// <summary>One silo whose bots ask the (fake) licence service before each completion: SENSAY_URL and SENSAY_SECRET_KEY set.</summary>
public sealed class LicenseFixture : BotClusterFixture
{
    protected override string ApiKey => "license-test-key";

    protected override string? LicenseSecretKey => "license-test-secret";

    protected override short SiloCount => 1;

    protected override void ConfigureServices(IServiceCollection services) => services.AddSingleton<IBotDefinitionSource>(new NoUpstream());

    public BotDefinition NewBot() => ClusterFixture.NewBot(Sensay);
}

/// <summary>sensay-api.md, "Optional licence check": an inactive plan gets the renewal text instead of a completion.</summary>
public sealed class LicenseTests(LicenseFixture fixture) : IClassFixture<LicenseFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_replica_whose_licence_lapsed_answers_with_the_renewal_text_and_asks_no_completion()
    {
        var bot = fixture.NewBot();
        await fixture.Orchestrator.CreateBotAsync(bot);
        await fixture.Telegram.WaitForPendingPollAsync(bot.Token, Timeout);

        var licensed = fixture.Telegram.SendPrivateText(bot.Token, "hello");
        var answer = await fixture.Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);
        Assert.Equal("Echo: hello", answer.Text);
        Assert.Equal(licensed.MessageId, answer.ReplyToMessageId);

        fixture.Sensay.ExpireLicense(bot.ReplicaUuid);
        var lapsed = fixture.Telegram.SendPrivateText(bot.Token, "still there?");
        var renewal = await fixture.Telegram.WaitForSentMessageAsync(bot.Token, m => m.ReplyToMessageId == lapsed.MessageId, Timeout);

        Assert.Equal(ConversationTexts.LicenseExpired, renewal.Text);
        Assert.Single(fixture.Sensay.Completions, c => c.ReplicaUuid == bot.ReplicaUuid);
        var checks = fixture.Sensay.Requests.Where(r => r.Route == SensayRoute.License && r.PathAndQuery.EndsWith(bot.ReplicaUuid, StringComparison.Ordinal)).ToList();
        Assert.Equal(2, checks.Count);
        // The licence service is another service: it never sees the organisation secret.
        Assert.All(checks, r => Assert.False(r.Headers.ContainsKey("X-ORGANIZATION-SECRET")));
        await fixture.Orchestrator.DeleteBotAsync(bot.ReplicaUuid);
    }
}

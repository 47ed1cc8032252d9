namespace Orchestrator.Tests;

public sealed class SmokeTests
{
    [Fact]
    public void Bot_definition_never_prints_its_token()
    {
        var definition = new Orchestrator.Abstractions.BotDefinition("r1", "slug", null, "123:SECRET");
        Assert.DoesNotContain("SECRET", definition.ToString(), StringComparison.Ordinal);
        Assert.Equal(123, definition.TelegramBotId);
    }
}

using Orchestrator.Host.Endpoints;

namespace Orchestrator.Host.Tests;

public sealed class BotRequestValidationTests
{
    private const string Token = "123456:ABC-def_ghi";
    private const string Uuid = "3f2504e0-4f89-41d3-9a0c-0305e82c3301";

    [Fact]
    public void A_complete_create_request_is_valid()
    {
        Assert.Empty(BotRequestValidation.ValidateCreate(new CreateBotRequest(Uuid, "slug", null, Token), requireUuid: true));
        Assert.Empty(BotRequestValidation.ValidateCreate(new CreateBotRequest("any-id", "slug", "owner", Token), requireUuid: false));
    }

    [Theory]
    [InlineData(null, "slug", Token, "replicaUUID")]
    [InlineData("", "slug", Token, "replicaUUID")]
    [InlineData("a/b", "slug", Token, "replicaUUID")]
    [InlineData("a b", "slug", Token, "replicaUUID")]
    [InlineData("id", null, Token, "replicaSlug")]
    [InlineData("id", " ", Token, "replicaSlug")]
    [InlineData("id", "slug", null, "token")]
    [InlineData("id", "slug", "not-a-token", "token")]
    [InlineData("id", "slug", "abc:def", "token")]
    [InlineData("id", "slug", "123:", "token")]
    [InlineData("id", "slug", "123:abc def", "token")]
    [InlineData("id", "slug", "123:abc\n", "token")]
    public void An_invalid_create_request_names_the_field(string? id, string? slug, string? token, string field)
    {
        var errors = BotRequestValidation.ValidateCreate(new CreateBotRequest(id, slug, null, token), requireUuid: false);
        Assert.Equal(field, Assert.Single(errors).Key);
    }

    [Fact]
    public void Production_requires_a_uuid_and_other_environments_do_not()
    {
        Assert.NotNull(BotRequestValidation.ReplicaUuidProblem("replica-1", requireUuid: true));
        Assert.Null(BotRequestValidation.ReplicaUuidProblem(Uuid, requireUuid: true));
        Assert.Null(BotRequestValidation.ReplicaUuidProblem("replica-1", requireUuid: false));
        Assert.NotNull(BotRequestValidation.ReplicaUuidProblem(new string('x', BotRequestValidation.MaxIdLength + 1), requireUuid: false));
    }

    [Fact]
    public void An_update_may_be_partial_but_not_contradict_the_path()
    {
        Assert.Empty(BotRequestValidation.ValidateUpdate("id", new UpdateBotRequest(null, null, null, null), requireUuid: false));
        Assert.Empty(BotRequestValidation.ValidateUpdate("id", new UpdateBotRequest("id", "slug", null, Token), requireUuid: false));
        Assert.Equal("replicaUUID", Assert.Single(BotRequestValidation.ValidateUpdate("id", new UpdateBotRequest("other", null, null, null), requireUuid: false)).Key);
        Assert.Equal("replicaSlug", Assert.Single(BotRequestValidation.ValidateUpdate("id", new UpdateBotRequest(null, "", null, null), requireUuid: false)).Key);
        Assert.Equal("token", Assert.Single(BotRequestValidation.ValidateUpdate("id", new UpdateBotRequest(null, null, null, "x"), requireUuid: false)).Key);
    }

    [Fact]
    public void Messages_never_quote_the_token()
    {
        const string badToken = "123:secret value";
        var errors = BotRequestValidation.ValidateCreate(new CreateBotRequest("id", "slug", null, badToken), requireUuid: false);
        Assert.DoesNotContain("secret value", BotRequestValidation.Summary(errors), StringComparison.Ordinal);
        Assert.DoesNotContain("secret value", new CreateBotRequest("id", "slug", null, badToken).ToString(), StringComparison.Ordinal);
    }
}

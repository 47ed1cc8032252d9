using System.Text.RegularExpressions;
using Orchestrator.Abstractions;
using Orchestrator.Fakes.Sensay;
using Orchestrator.Fakes.Telegram;
using Orchestrator.Telegram;

namespace Orchestrator.Tests.Grains;

/// <summary>
/// End-to-end tests of what a Telegram user sees (SPEC §7, issue 3): the real grains, the real Telegram.Bot client
/// against the emulator and the real Sensay client against the fake. Split over several files by theme:
/// this one holds the helpers and which messages get an answer.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed partial class ConversationTests(ClusterFixture fixture)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(15);

    private TelegramEmulator Telegram => fixture.Telegram;

    private FakeSensayApi Sensay => fixture.Sensay;

    [Fact]
    public async Task Private_text_gets_the_completion_as_reply()
    {
        await using var bot = await StartBotAsync();

        var update = Telegram.SendPrivateText(bot.Token, "How are you?");

        var reply = await Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);
        Assert.Equal("Echo: How are you?", reply.Text);
        Assert.Equal(TelegramUser.Alice.Id, reply.ChatId);
        Assert.Equal(update.MessageId, reply.ReplyToMessageId);
        var completion = Assert.Single(bot.Completions());
        Assert.Equal("How are you?", completion.Content);
        Assert.Null(completion.ImageUrl);
        Assert.Equal("private", completion.TelegramData?.ChatType);
        Assert.Equal(TelegramUser.Alice.Id, completion.TelegramData?.UserId);
        Assert.Equal("Alice", completion.TelegramData?.ChatName);
        Assert.Equal(update.MessageId, completion.TelegramData?.MessageId);
        await Telegram.WaitForConfirmedAsync(bot.Token, update.UpdateId, Timeout);
    }

    [Fact]
    public async Task Photo_with_caption_sends_the_download_url_of_the_photo_to_Sensay()
    {
        await using var bot = await StartBotAsync();

        var update = Telegram.SendPhoto(bot.Token, "What is in this picture?");

        var reply = await Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);
        Assert.Equal("Echo: What is in this picture?", reply.Text);
        Assert.Equal(update.MessageId, reply.ReplyToMessageId);
        var completion = Assert.Single(bot.Completions());
        Assert.Equal("What is in this picture?", completion.Content);
        Assert.NotNull(completion.ImageUrl);
        Assert.StartsWith($"{Telegram.BaseUrl}file/bot{bot.Token}/", completion.ImageUrl, StringComparison.Ordinal);
        Assert.Equal(1, Telegram.CallCount(bot.Token, "getFile"));

        // The URL really serves the photo.
        using var http = new HttpClient();
        using var photo = await http.GetAsync(new Uri(completion.ImageUrl), TestContext.Current.CancellationToken);
        Assert.True(photo.IsSuccessStatusCode, $"GET of the photo URL answered {(int)photo.StatusCode}");
        Assert.Equal("image/png", photo.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task Photo_without_caption_and_sticker_get_the_short_explanation()
    {
        await using var bot = await StartBotAsync();

        var photo = Telegram.SendPhoto(bot.Token, caption: null);
        var sticker = Telegram.PushRawUpdate(bot.Token, """
            {"message": {"message_id": 500, "date": 1700000000,
              "from": {"id": 42, "is_bot": false, "first_name": "Alice", "username": "alice"},
              "chat": {"id": 42, "type": "private", "first_name": "Alice", "username": "alice"},
              "sticker": {"file_id": "CAACAgIAAxkBAAI", "file_unique_id": "AgAD", "type": "regular",
                          "width": 512, "height": 512, "is_animated": false, "is_video": false}}}
            """);

        var replies = await Telegram.WaitForSentMessagesAsync(bot.Token, 2, timeout: Timeout);
        Assert.All(replies, r => Assert.Equal(ConversationTexts.NoText, r.Text));
        Assert.Equal(new[] { photo.MessageId, sticker.MessageId }, replies.Select(r => r.ReplyToMessageId ?? 0));
        Assert.Empty(bot.Completions());
        await Telegram.WaitForConfirmedAsync(bot.Token, sticker.UpdateId, Timeout);
    }

    [Fact]
    public async Task Group_mention_is_answered_as_a_reply_and_the_mention_is_removed_upstream()
    {
        await using var bot = await StartBotAsync();
        var group = TelegramChat.Group();

        var update = Telegram.SendMention(bot.Token, group, "what time is it?");

        var reply = await Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);
        Assert.Equal(group.Id, reply.ChatId);
        Assert.Equal(update.MessageId, reply.ReplyToMessageId);
        Assert.True(reply.Parameters["reply_parameters"]?["allow_sending_without_reply"]?.GetValue<bool>(), "the reply allows sending without the replied message");
        var completion = Assert.Single(bot.Completions());
        Assert.Equal("what time is it?", completion.Content);
        Assert.Equal("group", completion.TelegramData?.ChatType);
        Assert.Equal(group.Title, completion.TelegramData?.ChatName);
        Assert.Equal(group.Id, completion.TelegramData?.ChatId);
    }

    [Fact]
    public async Task Reply_to_a_message_of_the_bot_is_answered()
    {
        await using var bot = await StartBotAsync();
        var group = TelegramChat.Supergroup();
        Telegram.SendMention(bot.Token, group, "hello");
        var first = await Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);

        var update = Telegram.SendReplyToBot(bot.Token, first, "tell me more");

        var reply = await Telegram.WaitForSentMessageAsync(bot.Token, m => m.Sequence > first.Sequence, Timeout);
        Assert.Equal("Echo: tell me more", reply.Text);
        Assert.Equal(update.MessageId, reply.ReplyToMessageId);
        Assert.Equal(new[] { "hello", "tell me more" }, bot.Completions().Select(c => c.Content));
    }

    [Fact]
    public async Task Forum_topic_mention_is_answered_in_the_same_topic()
    {
        await using var bot = await StartBotAsync();
        var forum = TelegramChat.Supergroup(-1002000000001, "Forum", isForum: true);
        // Held until "typing" is seen: an answer ready at once ends the typing indicator, maybe before its first action.
        using var _ = HoldCompletions(bot, heldContent: null, out var release);

        var update = Telegram.SendTopicText(bot.Token, forum, threadId: 7, $"@{bot.Username} which topic is this?");

        var typing = await Telegram.WaitForChatActionAsync(bot.Token, timeout: Timeout);
        Assert.Equal(7, typing.MessageThreadId);
        release.SetResult();
        var reply = await Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);
        Assert.Equal(forum.Id, reply.ChatId);
        Assert.Equal(7, reply.MessageThreadId);
        Assert.Equal(update.MessageId, reply.ReplyToMessageId);
        var completion = Assert.Single(bot.Completions());
        Assert.Equal("which topic is this?", completion.Content);
        Assert.Equal(7, completion.TelegramData?.MessageThreadId);
    }

    [Fact]
    public async Task Group_message_not_addressed_to_the_bot_is_stored_not_answered()
    {
        await using var bot = await StartBotAsync();
        var group = TelegramChat.Group();

        var update = Telegram.SendGroupText(bot.Token, group, "  just chatting with friends  ", TelegramUser.Bob);

        await Telegram.WaitForConfirmedAsync(bot.Token, update.UpdateId, Timeout);
        var stored = Assert.Single(Sensay.HistoryRequests, h => h.ReplicaUuid == bot.ReplicaUuid);
        Assert.Equal("just chatting with friends", stored.Content);
        Assert.Equal(TelegramUser.Bob.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), stored.UserId);
        Assert.Equal(group.Id, stored.TelegramData?.ChatId);
        Assert.Equal(TelegramUser.Bob.Id, stored.TelegramData?.UserId);
        Assert.Empty(Telegram.SentMessages(bot.Token));
        Assert.Empty(Telegram.ChatActions(bot.Token));
        Assert.Empty(bot.Completions());
    }

    [Fact]
    public async Task Group_mention_without_text_gets_the_no_message_provided_answer()
    {
        await using var bot = await StartBotAsync();
        var group = TelegramChat.Group();

        var update = Telegram.SendMention(bot.Token, group, string.Empty);

        var reply = await Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);
        Assert.Equal(ConversationTexts.NoMessageProvided, reply.Text);
        Assert.Equal(update.MessageId, reply.ReplyToMessageId);
        Assert.Empty(bot.Completions());
    }

    [Fact]
    public async Task Messages_from_bots_and_service_messages_are_ignored_but_confirmed()
    {
        await using var bot = await StartBotAsync();
        var group = TelegramChat.Group();

        var joined = Telegram.SendNewChatMembers(bot.Token, group, TelegramUser.Bob);
        var fromBot = Telegram.SendMention(bot.Token, group, "answer me, fellow bot", TelegramUser.OtherBot);

        await Telegram.WaitForConfirmedAsync(bot.Token, fromBot.UpdateId, Timeout);
        Assert.True(joined.UpdateId < fromBot.UpdateId);
        Assert.Empty(Telegram.SentMessages(bot.Token));
        Assert.Empty(bot.Completions());
        Assert.DoesNotContain(Sensay.HistoryRequests, h => h.ReplicaUuid == bot.ReplicaUuid);

        // The bot keeps running: the next message is answered.
        Telegram.SendMention(bot.Token, group, "and me?");
        var reply = await Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);
        Assert.Equal("Echo: and me?", reply.Text);
    }

    [Fact]
    public async Task First_message_of_a_user_creates_the_Sensay_user_once_with_the_user_headers()
    {
        await using var bot = await StartBotAsync();
        var user = NewUser();
        var userId = user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Assert.False(Sensay.HasUser(userId));

        Telegram.SendPrivateText(bot.Token, "first", user);
        var first = await Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);

        Assert.Equal("Echo: first", first.Text);
        Assert.True(Sensay.HasUser(userId));
        var userRequests = UserRequests(userId);
        Assert.Equal(new[] { "GET /v1/users/me", "POST /v1/users" }, userRequests.Select(r => $"{r.Method} {r.PathAndQuery}"));
        Assert.Equal("telegram", userRequests[0].Headers["X-USER-ID-TYPE"]);
        var completion = Assert.Single(bot.Completions());
        Assert.Equal(userId, completion.UserId);
        Assert.Equal("telegram", completion.UserIdType);
        // The user was ensured before the completion was asked for.
        Assert.True(userRequests[1].Sequence < Sensay.Requests.Single(r => r.Route == SensayRoute.Completion && r.PathAndQuery.Contains(bot.ReplicaUuid, StringComparison.Ordinal)).Sequence);

        Telegram.SendPrivateText(bot.Token, "second", user);
        var second = await Telegram.WaitForSentMessageAsync(bot.Token, m => m.Sequence > first.Sequence, Timeout);

        Assert.Equal("Echo: second", second.Text);
        Assert.Equal(2, UserRequests(userId).Count);
        Assert.Equal(2, bot.Completions().Count);
    }

    [Fact]
    public async Task Conflict_when_creating_the_Sensay_user_counts_as_success()
    {
        await using var bot = await StartBotAsync();
        var user = NewUser();
        var userId = user.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        // Another bot creates the user between our GET /v1/users/me (401) and our POST /v1/users (409).
        Sensay.AddUser(userId);
        Sensay.InjectFault(SensayRoute.Users, new SensayFault { StatusCode = 401, Error = "User not found" });

        Telegram.SendPrivateText(bot.Token, "racing", user);
        var reply = await Telegram.WaitForSentMessageAsync(bot.Token, timeout: Timeout);

        Assert.Equal("Echo: racing", reply.Text);
        Assert.Equal(new[] { "GET /v1/users/me", "POST /v1/users" }, UserRequests(userId).Select(r => $"{r.Method} {r.PathAndQuery}"));
        Assert.Single(bot.Completions());
    }

    private static int s_nextUserId = 5_000_000;

    /// <summary>A Telegram user no test has used, so no silo's user cache knows it.</summary>
    private static TelegramUser NewUser()
    {
        var id = Interlocked.Increment(ref s_nextUserId);
        return new TelegramUser(id, $"User{id}", $"user{id}");
    }

    /// <summary>Requests to the users routes made for <paramref name="userId"/> (by header or in the body).</summary>
    private List<RecordedRequest> UserRequests(string userId) =>
        [.. Sensay.Requests.Where(r => r.Route == SensayRoute.Users
            && ((r.Headers.TryGetValue("X-USER-ID", out var header) && header == userId) || r.Body.Contains($"\"{userId}\"", StringComparison.Ordinal)))];

    private async Task<RunningBot> StartBotAsync()
    {
        var definition = fixture.NewBot();
        Assert.Equal(CreateBotResult.Created, await fixture.Orchestrator.CreateBotAsync(definition));
        await Telegram.WaitForPendingPollAsync(definition.Token, Timeout);
        return new RunningBot(fixture, definition);
    }

    /// <summary>
    /// Answers this bot's completions with <paramref name="handler"/> (other replicas still get the echo) until disposed.
    /// </summary>
    private CompletionHandlerScope UseCompletions(RunningBot bot, Func<CompletionRequest, CancellationToken, Task<string>> handler)
    {
        var previous = Sensay.CompletionHandler;
        Sensay.CompletionHandler = (request, ct) => request.ReplicaUuid == bot.ReplicaUuid ? handler(request, ct) : previous(request, ct);
        return new CompletionHandlerScope(Sensay, previous);
    }

    /// <summary>
    /// Echo completions for <paramref name="bot"/>, but those for <paramref name="heldContent"/> (every one when null)
    /// wait until the test completes <paramref name="release"/>.
    /// </summary>
    private CompletionHandlerScope HoldCompletions(RunningBot bot, string? heldContent, out TaskCompletionSource release)
    {
        var gate = release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return UseCompletions(bot, async (request, ct) =>
        {
            if (heldContent is null || request.Content == heldContent)
            {
                await gate.Task.WaitAsync(ct);
            }

            return $"Echo: {request.Content}";
        });
    }

    private static string ErrorIdOf(string apology)
    {
        var match = Regex.Match(apology, @"\(error id: ([0-9a-f]{12})\)$");
        Assert.True(match.Success, $"No error id in \"{apology}\"");
        return match.Groups[1].Value;
    }

    private sealed class CompletionHandlerScope(FakeSensayApi sensay, Func<CompletionRequest, CancellationToken, Task<string>> previous) : IDisposable
    {
        public void Dispose() => sensay.CompletionHandler = previous;
    }

    /// <summary>A bot created for one test; disposing deletes it, so no test leaves a poller behind.</summary>
    private sealed class RunningBot(ClusterFixture fixture, BotDefinition definition) : IAsyncDisposable
    {
        public BotDefinition Definition => definition;

        public string Token => definition.Token;

        public string ReplicaUuid => definition.ReplicaUuid;

        public string Username => fixture.Telegram.GetBot(Token)?.Username ?? throw new InvalidOperationException("The emulator does not know the bot.");

        /// <summary>The completion requests Sensay received for this bot, oldest first.</summary>
        public List<CompletionRequest> Completions() => [.. fixture.Sensay.Completions.Where(c => c.ReplicaUuid == ReplicaUuid)];

        public async ValueTask DisposeAsync() => await fixture.Orchestrator.DeleteBotAsync(definition.ReplicaUuid);
    }
}

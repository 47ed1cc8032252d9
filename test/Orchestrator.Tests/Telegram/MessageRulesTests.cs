using Orchestrator.Telegram;
using Telegram.Bot.Types;
using Telegram.Bot.Types.Enums;

namespace Orchestrator.Tests.Telegram;

public sealed class MessageRulesTests
{
    private static readonly BotIdentity Bot = new(1001, "ReplicaBot");
    private static readonly User Alice = new() { Id = 42, IsBot = false, FirstName = "Alice", Username = "alice" };

    private static Message Private(string? text, MessageEntity[]? entities = null) => new()
    {
        Id = 7,
        Date = DateTime.UtcNow,
        Chat = new Chat { Id = 42, Type = ChatType.Private, FirstName = "Alice" },
        From = Alice,
        Text = text,
        Entities = entities,
    };

    private static Message Group(string? text, MessageEntity[]? entities = null, ChatType type = ChatType.Supergroup) => new()
    {
        Id = 8,
        Date = DateTime.UtcNow,
        Chat = new Chat { Id = -100123, Type = type, Title = "Readers" },
        From = Alice,
        Text = text,
        Entities = entities,
    };

    private static MessageEntity Mention(string text, string mention) =>
        new() { Type = MessageEntityType.Mention, Offset = text.IndexOf(mention, StringComparison.Ordinal), Length = mention.Length };

    [Fact]
    public void Private_text_is_answered_with_chat_metadata()
    {
        var decision = MessageRules.Decide(Private("  hello there "), Bot);

        var answer = Assert.IsType<MessageDecision.Answer>(decision);
        Assert.Equal("hello there", answer.Text);
        Assert.Null(answer.PhotoFileId);
        Assert.Equal(new TelegramChatInfo("private", 42, "Alice", 42, "alice", 7, null), answer.Chat);
    }

    [Fact]
    public void Private_sticker_gets_the_no_text_explanation()
    {
        var message = Private(null);
        message.Sticker = new Sticker { FileId = "s", FileUniqueId = "u" };

        Assert.IsType<MessageDecision.ExplainNoText>(MessageRules.Decide(message, Bot));
    }

    [Fact]
    public void Private_photo_without_caption_gets_the_no_text_explanation()
    {
        var message = Private(null);
        message.Photo = [new PhotoSize { FileId = "small", FileUniqueId = "a" }];

        Assert.IsType<MessageDecision.ExplainNoText>(MessageRules.Decide(message, Bot));
    }

    [Fact]
    public void Private_photo_with_caption_is_answered_with_the_largest_photo()
    {
        var message = Private(null);
        message.Caption = "what is this?";
        message.Photo = [new PhotoSize { FileId = "small", FileUniqueId = "a" }, new PhotoSize { FileId = "large", FileUniqueId = "b" }];

        var answer = Assert.IsType<MessageDecision.Answer>(MessageRules.Decide(message, Bot));
        Assert.Equal("what is this?", answer.Text);
        Assert.Equal("large", answer.PhotoFileId);
    }

    [Fact]
    public void Group_message_not_addressed_to_the_bot_is_stored()
    {
        var decision = MessageRules.Decide(Group("just chatting"), Bot);

        var store = Assert.IsType<MessageDecision.StoreHistory>(decision);
        Assert.Equal("just chatting", store.Text);
        Assert.Equal("supergroup", store.Chat.ChatType);
        Assert.Equal("Readers", store.Chat.ChatName);
    }

    [Fact]
    public void Group_mention_is_answered_with_the_mention_removed()
    {
        const string text = "@ReplicaBot what is love?";

        var answer = Assert.IsType<MessageDecision.Answer>(MessageRules.Decide(Group(text, [Mention(text, "@ReplicaBot")]), Bot));

        Assert.Equal("what is love?", answer.Text);
    }

    [Fact]
    public void Mention_is_matched_case_insensitively()
    {
        const string text = "hey @replicabot, hi";

        var answer = Assert.IsType<MessageDecision.Answer>(MessageRules.Decide(Group(text, [Mention(text, "@replicabot")]), Bot));

        Assert.Equal("hey, hi", answer.Text);
    }

    [Fact]
    public void Mention_in_the_middle_collapses_the_whitespace()
    {
        const string text = "tell   me @ReplicaBot   a story";

        var answer = Assert.IsType<MessageDecision.Answer>(MessageRules.Decide(Group(text, [Mention(text, "@ReplicaBot")]), Bot));

        Assert.Equal("tell   me a story", answer.Text);
    }

    [Fact]
    public void Every_mention_of_the_bot_is_removed_and_others_stay()
    {
        const string text = "@ReplicaBot ask @OtherBot and @ReplicaBot again";
        var second = text.LastIndexOf("@ReplicaBot", StringComparison.Ordinal);
        MessageEntity[] entities =
        [
            new() { Type = MessageEntityType.Mention, Offset = 0, Length = 11 },
            Mention(text, "@OtherBot"),
            new() { Type = MessageEntityType.Mention, Offset = second, Length = 11 },
        ];

        var answer = Assert.IsType<MessageDecision.Answer>(MessageRules.Decide(Group(text, entities), Bot));

        Assert.Equal("ask @OtherBot and again", answer.Text);
    }

    [Fact]
    public void Mention_of_another_bot_is_not_ours()
    {
        const string text = "@ReplicaBotX hello";

        var decision = MessageRules.Decide(Group(text, [Mention(text, "@ReplicaBotX")]), Bot);

        Assert.IsType<MessageDecision.StoreHistory>(decision);
    }

    [Fact]
    public void Mention_text_without_an_entity_does_not_count()
    {
        Assert.IsType<MessageDecision.StoreHistory>(MessageRules.Decide(Group("@ReplicaBot hello"), Bot));
    }

    [Fact]
    public void Mention_offsets_are_utf16_units_after_an_emoji()
    {
        const string text = "😀😀 @ReplicaBot hi";

        var answer = Assert.IsType<MessageDecision.Answer>(MessageRules.Decide(Group(text, [new MessageEntity { Type = MessageEntityType.Mention, Offset = 5, Length = 11 }]), Bot));

        Assert.Equal("😀😀 hi", answer.Text);
    }

    [Fact]
    public void Text_mention_of_the_bot_id_is_ours()
    {
        const string text = "Replica please summarise";
        var entity = new MessageEntity { Type = MessageEntityType.TextMention, Offset = 0, Length = 7, User = new User { Id = Bot.Id, IsBot = true, FirstName = "Replica" } };

        var answer = Assert.IsType<MessageDecision.Answer>(MessageRules.Decide(Group(text, [entity]), Bot));

        Assert.Equal("please summarise", answer.Text);
    }

    [Fact]
    public void Text_mention_of_someone_else_is_not_ours()
    {
        const string text = "Bob please summarise";
        var entity = new MessageEntity { Type = MessageEntityType.TextMention, Offset = 0, Length = 3, User = new User { Id = 77, FirstName = "Bob" } };

        Assert.IsType<MessageDecision.StoreHistory>(MessageRules.Decide(Group(text, [entity]), Bot));
    }

    [Fact]
    public void Caption_mention_uses_caption_entities()
    {
        var message = Group(null);
        message.Caption = "@ReplicaBot describe this";
        message.CaptionEntities = [new MessageEntity { Type = MessageEntityType.Mention, Offset = 0, Length = 11 }];
        message.Photo = [new PhotoSize { FileId = "p1", FileUniqueId = "u1" }];

        var answer = Assert.IsType<MessageDecision.Answer>(MessageRules.Decide(message, Bot));

        Assert.Equal("describe this", answer.Text);
        Assert.Equal("p1", answer.PhotoFileId);
    }

    [Fact]
    public void Text_entities_are_not_applied_to_the_caption()
    {
        var message = Group(null);
        message.Caption = "@ReplicaBot describe this";
        message.Entities = [new MessageEntity { Type = MessageEntityType.Mention, Offset = 0, Length = 11 }];

        Assert.IsType<MessageDecision.StoreHistory>(MessageRules.Decide(message, Bot));
    }

    [Fact]
    public void Reply_to_the_bot_is_answered()
    {
        var message = Group("and why?");
        message.ReplyToMessage = new Message { Id = 5, Chat = message.Chat, From = new User { Id = Bot.Id, IsBot = true, FirstName = "Replica" } };

        var answer = Assert.IsType<MessageDecision.Answer>(MessageRules.Decide(message, Bot));
        Assert.Equal("and why?", answer.Text);
    }

    [Fact]
    public void Reply_to_another_user_is_stored()
    {
        var message = Group("and why?");
        message.ReplyToMessage = new Message { Id = 5, Chat = message.Chat, From = new User { Id = 77, FirstName = "Bob" } };

        Assert.IsType<MessageDecision.StoreHistory>(MessageRules.Decide(message, Bot));
    }

    [Fact]
    public void Topic_message_keeps_its_thread_and_the_topic_root_is_not_a_reply_to_the_bot()
    {
        const string text = "@ReplicaBot hi";
        var message = Group(text, [Mention(text, "@ReplicaBot")]);
        message.IsTopicMessage = true;
        message.MessageThreadId = 3;

        var answer = Assert.IsType<MessageDecision.Answer>(MessageRules.Decide(message, Bot));
        Assert.Equal(3, answer.Chat.MessageThreadId);

        var plain = Group("hello topic");
        plain.IsTopicMessage = true;
        plain.MessageThreadId = 3;
        plain.ReplyToMessage = new Message { Id = 3, Chat = plain.Chat, From = new User { Id = Bot.Id, IsBot = true, FirstName = "Replica" } };
        Assert.IsType<MessageDecision.StoreHistory>(MessageRules.Decide(plain, Bot));
    }

    [Fact]
    public void Thread_id_is_not_sent_for_a_non_topic_message()
    {
        var message = Private("hi");
        message.MessageThreadId = 9;

        var answer = Assert.IsType<MessageDecision.Answer>(MessageRules.Decide(message, Bot));
        Assert.Null(answer.Chat.MessageThreadId);
    }

    [Fact]
    public void Mention_alone_in_a_group_means_no_message_provided()
    {
        const string text = "  @ReplicaBot  ";

        Assert.IsType<MessageDecision.NoMessageProvided>(MessageRules.Decide(Group(text, [Mention(text, "@ReplicaBot")]), Bot));
    }

    [Fact]
    public void Message_from_a_bot_is_ignored()
    {
        var message = Private("hello");
        message.From = new User { Id = 5, IsBot = true, FirstName = "Other" };

        Assert.IsType<MessageDecision.Ignore>(MessageRules.Decide(message, Bot));
    }

    [Fact]
    public void Service_message_is_ignored()
    {
        var message = Group(null);
        message.NewChatMembers = [new User { Id = 9, FirstName = "New" }];

        Assert.IsType<MessageDecision.Ignore>(MessageRules.Decide(message, Bot));
    }

    [Fact]
    public void Channel_post_and_senderless_message_are_ignored()
    {
        Assert.IsType<MessageDecision.Ignore>(MessageRules.Decide(Group("news", type: ChatType.Channel), Bot));

        var anonymous = Group("hello");
        anonymous.From = null;
        Assert.IsType<MessageDecision.Ignore>(MessageRules.Decide(anonymous, Bot));
    }

    [Fact]
    public void Group_message_without_text_that_is_not_addressed_is_ignored()
    {
        var message = Group(null);
        message.Sticker = new Sticker { FileId = "s", FileUniqueId = "u" };

        Assert.IsType<MessageDecision.Ignore>(MessageRules.Decide(message, Bot));
    }

    [Fact]
    public void Basic_group_chat_type_is_reported_as_group()
    {
        const string text = "@ReplicaBot hi";

        var answer = Assert.IsType<MessageDecision.Answer>(MessageRules.Decide(Group(text, [Mention(text, "@ReplicaBot")], ChatType.Group), Bot));

        Assert.Equal("group", answer.Chat.ChatType);
        Assert.Equal(-100123, answer.Chat.ChatId);
        Assert.Equal(42, answer.Chat.UserId);
    }
}

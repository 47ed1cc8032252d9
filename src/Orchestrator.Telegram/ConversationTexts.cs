namespace Orchestrator.Telegram;

/// <summary>The default texts a Telegram user sees from the bot itself (not from the replica).</summary>
public static class ConversationTexts
{
    /// <summary>Sent once when a user exceeds the flood limit.</summary>
    public const string SlowDown = "You are sending messages too quickly. Please slow down and try again in a few seconds.";

    /// <summary>Sent for a message without text (a sticker, a photo without caption, a voice message…).</summary>
    public const string NoText = "Sorry, I can only read text messages and photos with a caption. Please send me your message as text.";

    /// <summary>Sent when the bot is mentioned in a group without a message.</summary>
    public const string NoMessageProvided = "It looks like you mentioned me without a message. What would you like to ask?";

    /// <summary>Sent when the replica's subscription (licence) is not active.</summary>
    public const string LicenseExpired = "This bot's subscription is not active. Please ask its owner to renew it.";

    /// <summary>The apology sent when answering failed; <paramref name="errorId"/> is also logged.</summary>
    public static string Apology(string errorId) =>
        $"Sorry, something went wrong on my side. Please try again later. (error id: {errorId})";

    /// <summary>A short random error id to correlate an apology with the log.</summary>
    public static string NewErrorId() => Guid.NewGuid().ToString("N")[..12];
}

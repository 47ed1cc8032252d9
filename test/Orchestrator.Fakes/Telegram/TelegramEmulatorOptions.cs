namespace Orchestrator.Fakes.Telegram;

/// <summary>Options of <see cref="TelegramEmulator"/>. Every realism flag is off by default.</summary>
public sealed class TelegramEmulatorOptions
{
    /// <summary>TCP port on 127.0.0.1; 0 (default) picks a free one.</summary>
    public int Port { get; set; }

    /// <summary>Accept any well-formed token (<c>&lt;digits&gt;:&lt;secret&gt;</c>) and give it a bot. Default true; when false only <see cref="TelegramEmulator.AddBot"/> tokens work.</summary>
    public bool AutoRegisterTokens { get; set; } = true;

    /// <summary>sendMessage/sendChatAction to a <c>message_thread_id</c> never seen in that chat answer 400 "message thread not found".</summary>
    public bool RequireThreadExists { get; set; }

    /// <summary>sendMessage replying to an unknown message without <c>allow_sending_without_reply</c> answers 400 "message to be replied not found".</summary>
    public bool RequireReplyTargetExists { get; set; }

    /// <summary>First update_id given to each token (default 10001); ids then increase by one.</summary>
    public int FirstUpdateId { get; set; } = 10001;

    /// <summary>Clock for message dates and record times (default <see cref="TimeProvider.System"/>). Long-poll timeouts use real time.</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Write Kestrel warnings to the console (standalone mode). Default false.</summary>
    public bool LogWarningsToConsole { get; set; }
}

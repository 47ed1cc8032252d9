using System.Security.Cryptography.X509Certificates;

namespace Orchestrator.Fakes.Telegram;

/// <summary>Options of <see cref="TelegramEmulator"/>. Every realism flag is off by default.</summary>
public sealed class TelegramEmulatorOptions
{
    /// <summary>TCP port of plain HTTP (HTTP/1.1) on 127.0.0.1; 0 (default) picks a free one.</summary>
    public int Port { get; set; }

    /// <summary>
    /// TCP port of HTTPS (HTTP/1.1 and HTTP/2 by ALPN) on 127.0.0.1, besides plain HTTP; 0 picks a free one; null
    /// (default): no HTTPS. Served with <see cref="Certificate"/>, or a self-signed one generated at start.
    /// </summary>
    public int? HttpsPort { get; set; }

    /// <summary>The HTTPS certificate (with its private key); null: <see cref="SelfSignedCertificate.Create"/> makes one.</summary>
    public X509Certificate2? Certificate { get; set; }

    /// <summary>
    /// Keep a history of calls, sent messages, chat actions and posted updates for inspection (default true). Turn it
    /// off for long load runs: memory then stays flat, and the inspection methods return empty lists.
    /// </summary>
    public bool RecordHistory { get; set; } = true;

    /// <summary>Called after every accepted sendMessage with the token and chat id (e.g. to time replies). Must be fast and thread-safe.</summary>
    public Action<string, long>? SentMessageObserver { get; set; }

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

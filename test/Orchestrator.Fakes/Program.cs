using System.Globalization;
using System.Runtime.InteropServices;
using Orchestrator.Fakes.Sensay;
using Orchestrator.Fakes.Telegram;

// Standalone mode: both fakes on fixed ports, one demo replica, a chat page at the emulator's "/".
const string DemoToken = "123456789:DEMO_fake_token_for_local_use_only";
const string DemoApiKey = "demo-sensay-key";

var telegramPort = PortArg(args, "--telegram-port", 8081);
var sensayPort = PortArg(args, "--sensay-port", 8082);

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});

await using var telegram = await TelegramEmulator.StartAsync(new TelegramEmulatorOptions { Port = telegramPort, LogWarningsToConsole = true });
await using var sensay = await FakeSensayApi.StartAsync(new FakeSensayOptions { Port = sensayPort, ApiKey = DemoApiKey, LogWarningsToConsole = true });

// Seed: one replica whose bot is the demo token; answers take a moment so "typing" shows.
var bot = telegram.AddBot(DemoToken, "demo_replica_bot", "Demo replica");
sensay.AddReplica(new FakeReplica("11111111-2222-3333-4444-555555555555", "demo-replica", DemoToken, Name: "Demo replica"));
sensay.CompletionHandler = async (request, ct) =>
{
    await Task.Delay(TimeSpan.FromSeconds(1.5), ct);
    return $"Echo: {request.Content}";
};

var telegramUrl = telegram.BaseUrl.ToString().TrimEnd('/');
var sensayUrl = sensay.BaseUrl.ToString().TrimEnd('/');
Console.WriteLine($"""
    Telegram Bot API emulator: {telegramUrl}   chat page: {telegramUrl}/
    Fake Sensay API:           {sensayUrl}   one replica 'demo-replica' with bot @{bot.Username}

    Run a local orchestrator against them:
      TELEGRAM_API_URL={telegramUrl} SENSAY_API_URL={sensayUrl} SENSAY_API_KEY={DemoApiKey} dotnet run --project src/Orchestrator.Host

    Then open {telegramUrl}/ , pick @{bot.Username}, and write as Alice in the private chat
    (or in the demo group with "@mention the bot" ticked). Replies and "typing" appear there.
    Ctrl+C stops both.
    """);

try
{
    await Task.Delay(Timeout.Infinite, stop.Token);
}
catch (OperationCanceledException)
{
    Console.WriteLine("Stopping.");
}

static int PortArg(string[] args, string name, int fallback)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length && int.TryParse(args[index + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var port)
        ? port
        : fallback;
}

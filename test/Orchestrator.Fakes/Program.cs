using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Orchestrator.Fakes;
using Orchestrator.Fakes.Bench;
using Orchestrator.Fakes.Sensay;
using Orchestrator.Fakes.Telegram;

// Standalone mode: both fakes on fixed ports. By default one demo replica and a chat page at the emulator's "/".
// --bench: no demo replica, no history kept (flat memory under load), and the benchmark driver's control API.
const string DemoToken = "123456789:DEMO_fake_token_for_local_use_only";
const string DemoApiKey = "demo-sensay-key";

var bench = args.Contains("--bench");
var telegramPort = PortArg(args, "--telegram-port", bench ? 0 : 8081);
var httpsPort = args.Contains("--telegram-https-port") ? PortArg(args, "--telegram-https-port", 0) : (int?)null;
var sensayPort = PortArg(args, "--sensay-port", bench ? 0 : 8082);
var controlPort = PortArg(args, "--control-port", 0);
var certFile = StringArg(args, "--cert-out") ?? Path.Combine(Path.GetTempPath(), $"telegram-emulator-{Environment.ProcessId}.crt");

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

var certificate = httpsPort is null ? null : SelfSignedCertificate.Create(rsa: args.Contains("--rsa"));
if (certificate is not null)
{
    SelfSignedCertificate.WritePem(certificate, certFile);
}

await using var telegram = await TelegramEmulator.StartAsync(new TelegramEmulatorOptions
{
    Port = telegramPort,
    HttpsPort = httpsPort,
    Certificate = certificate,
    RecordHistory = !bench,
    LogWarningsToConsole = true,
});
await using var sensay = await FakeSensayApi.StartAsync(new FakeSensayOptions
{
    Port = sensayPort,
    ApiKey = DemoApiKey,
    RecordRequests = !bench,
    LogWarningsToConsole = true,
});

var telegramUrl = telegram.BaseUrl.ToString().TrimEnd('/');
var httpsUrl = telegram.HttpsBaseUrl?.ToString().TrimEnd('/');
var sensayUrl = sensay.BaseUrl.ToString().TrimEnd('/');
var tlsHelp = httpsUrl is null ? string.Empty : $"""

    HTTPS (HTTP/1.1 and HTTP/2): {httpsUrl}, self-signed certificate written to {certFile}
    To use it, also set TELEGRAM_API_URL={httpsUrl} TELEGRAM_CA_CERT_FILE={certFile} (test only).
    """;

if (bench)
{
    await using var control = await BenchControl.StartAsync(telegram, sensay, controlPort);

    // One machine-readable line for the benchmark driver.
    Console.WriteLine("FAKES_READY " + JsonSerializer.Serialize(new
    {
        telegramHttp = telegramUrl,
        telegramHttps = httpsUrl,
        certFile = certificate is null ? null : certFile,
        sensay = sensayUrl,
        sensayApiKey = DemoApiKey,
        control = control.BaseUrl.ToString().TrimEnd('/'),
    }));
    await WaitForStopAsync(stop.Token);
    return;
}

// Seed: one replica whose bot is the demo token; answers take a moment so "typing" shows.
var bot = telegram.AddBot(DemoToken, "demo_replica_bot", "Demo replica");
sensay.AddReplica(new FakeReplica("11111111-2222-3333-4444-555555555555", "demo-replica", DemoToken, Name: "Demo replica"));
sensay.CompletionHandler = async (request, ct) =>
{
    await Task.Delay(TimeSpan.FromSeconds(1.5), ct);
    return $"Echo: {request.Content}";
};

Console.WriteLine($"""
    Telegram Bot API emulator: {telegramUrl}   chat page: {telegramUrl}/
    Fake Sensay API:           {sensayUrl}   one replica 'demo-replica' with bot @{bot.Username}{tlsHelp}

    Run a local orchestrator against them:
      TELEGRAM_API_URL={telegramUrl} SENSAY_API_URL={sensayUrl} SENSAY_API_KEY={DemoApiKey} dotnet run --project src/Orchestrator.Host

    Then open {telegramUrl}/ , pick @{bot.Username}, and write as Alice in the private chat
    (or in the demo group with "@mention the bot" ticked). Replies and "typing" appear there.
    Ctrl+C stops both.
    """);
await WaitForStopAsync(stop.Token);

static async Task WaitForStopAsync(CancellationToken stopping)
{
    try
    {
        await Task.Delay(Timeout.Infinite, stopping);
    }
    catch (OperationCanceledException)
    {
        Console.WriteLine("Stopping.");
    }
}

static string? StringArg(string[] args, string name)
{
    var index = Array.IndexOf(args, name);
    return index >= 0 && index + 1 < args.Length ? args[index + 1] : null;
}

static int PortArg(string[] args, string name, int fallback) =>
    int.TryParse(StringArg(args, name), NumberStyles.Integer, CultureInfo.InvariantCulture, out var port) ? port : fallback;

using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Orchestrator.Fakes;

/// <summary>Kestrel on 127.0.0.1 with minimal logging, shared by both fakes.</summary>
internal static class FakeHost
{
    /// <summary>How long Kestrel may wait for in-flight requests when a fake stops; fakes cancel their own waits first.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Plain HTTP/1.1 on <paramref name="port"/>; with <paramref name="httpsPort"/>, also HTTPS (HTTP/1.1 and HTTP/2 by ALPN).</summary>
    public static WebApplicationBuilder CreateBuilder(int port, bool logWarningsToConsole, int? httpsPort = null, X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions
        {
            Args = [],
            EnvironmentName = Environments.Production,
            ApplicationName = typeof(FakeHost).Assembly.GetName().Name,
        });

        // Request URLs contain bot tokens: no request logging, warnings only.
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);

        // With this category on at any level, ASP.NET Core starts an Activity and a log scope for every request (with their
        // execution-context copies, ~5 % of the emulator's allocations under load) for requests it never logs.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        if (logWarningsToConsole)
        {
            builder.Logging.AddSimpleConsole();
        }

        builder.WebHost.UseKestrel(options =>
        {
            // Thousands of concurrent long polls: no connection caps, and HTTP/2 clients may multiplex many polls per
            // connection (the client opens more connections past this many streams).
            options.Limits.MaxConcurrentConnections = null;
            options.Limits.MaxConcurrentUpgradedConnections = null;
            options.Limits.Http2.MaxStreamsPerConnection = 1000;
            options.AddServerHeader = false;
            options.Listen(IPAddress.Loopback, port, listen => listen.Protocols = HttpProtocols.Http1);
            if (httpsPort is { } tls)
            {
                ArgumentNullException.ThrowIfNull(certificate);
                options.Listen(IPAddress.Loopback, tls, listen =>
                {
                    listen.Protocols = HttpProtocols.Http1AndHttp2;
                    listen.UseHttps(certificate);
                });
            }
        });
        builder.Services.Configure<HostOptions>(options => options.ShutdownTimeout = ShutdownTimeout);
        return builder;
    }

    /// <summary>The plain HTTP address.</summary>
    public static Uri GetBaseUrl(WebApplication app) => GetBaseUrl(app, Uri.UriSchemeHttp)!;

    /// <summary>The address of a scheme, or null when none listens.</summary>
    public static Uri? GetBaseUrl(WebApplication app, string scheme)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        return addresses.Select(a => new Uri(a)).FirstOrDefault(a => a.Scheme == scheme);
    }

    public static async Task StopAsync(WebApplication app)
    {
        using var timeout = new CancellationTokenSource(ShutdownTimeout);
        try
        {
            await app.StopAsync(timeout.Token).ConfigureAwait(false);
        }
        finally
        {
            await app.DisposeAsync().ConfigureAwait(false);
        }
    }
}

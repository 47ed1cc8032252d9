using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Orchestrator.Host.Options;

namespace Orchestrator.Host.Tests.Infrastructure;

/// <summary>
/// The real Orchestrator host (Program.cs, embedded silo, Kestrel) started in-process and reached over real HTTP on
/// loopback. Every instance gets free HTTP, silo and gateway ports, so hosts may run in parallel. Bots it runs poll
/// <see cref="DefaultSettings"/>' TELEGRAM_API_URL (an unused loopback port) unless overridden, so nothing leaves the machine.
/// </summary>
public sealed class OrchestratorHost : IAsyncDisposable
{
    /// <summary>The auth token the host is started with (unless overridden).</summary>
    public const string DefaultAuthToken = "test-auth-token-0123456789";

    /// <summary>Settings every test host gets; <see cref="StartAsync"/>'s overrides win.</summary>
    public static IReadOnlyDictionary<string, string?> DefaultSettings { get; } = new Dictionary<string, string?>
    {
        ["NODE_ENV"] = "test",
        ["LOG_LEVEL"] = "warn",
        ["ORCHESTRATOR_AUTH_TOKEN"] = DefaultAuthToken,
        ["TELEGRAM_API_URL"] = "http://127.0.0.1:9",
    };

    private readonly Factory _factory;

    private OrchestratorHost(Factory factory, Uri baseAddress, string? authToken)
    {
        _factory = factory;
        BaseAddress = baseAddress;
        AuthToken = authToken;
    }

    /// <summary>http://127.0.0.1:{HTTP_PORT}/</summary>
    public Uri BaseAddress { get; }

    /// <summary>The ORCHESTRATOR_AUTH_TOKEN the host runs with (null when a test unset it and the host generated one).</summary>
    public string? AuthToken { get; }

    /// <summary>The host's services (the silo's included).</summary>
    public IServiceProvider Services => _factory.Services;

    /// <summary>Calls grains directly in the co-hosted silo.</summary>
    public IGrainFactory GrainFactory => Services.GetRequiredService<IGrainFactory>();

    /// <summary>
    /// Starts a host. <paramref name="settings"/> are environment-variable names and values (SPEC §3) layered over
    /// <see cref="DefaultSettings"/>; a null value removes a default. HTTP_PORT, SILO_PORT and GATEWAY_PORT are free
    /// ports unless given.
    /// </summary>
    public static async Task<OrchestratorHost> StartAsync(IReadOnlyDictionary<string, string?>? settings = null)
    {
        var merged = new Dictionary<string, string?>(DefaultSettings);
        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            merged[key] = value;
        }

        // A free port is found by binding and releasing it, so another process of the parallel test run can take it
        // before the host binds it: then start again on other ports.
        for (var attempt = 1; ; attempt++)
        {
            var attemptSettings = new Dictionary<string, string?>(merged);
            var ports = FreePorts(3);
            attemptSettings.TryAdd("HTTP_PORT", ports[0].ToString(System.Globalization.CultureInfo.InvariantCulture));
            attemptSettings.TryAdd("SILO_PORT", ports[1].ToString(System.Globalization.CultureInfo.InvariantCulture));
            attemptSettings.TryAdd("GATEWAY_PORT", ports[2].ToString(System.Globalization.CultureInfo.InvariantCulture));

            var factory = new Factory(attemptSettings);
            factory.UseKestrel();
            try
            {
                await Task.Run(factory.StartServer);
            }
            catch (Exception ex) when (attempt < 3 && IsAddressInUse(ex))
            {
                await factory.DisposeAsync();
                continue;
            }

            return new OrchestratorHost(factory, new Uri($"http://127.0.0.1:{attemptSettings["HTTP_PORT"]}/"), attemptSettings["ORCHESTRATOR_AUTH_TOKEN"]);
        }
    }

    private static bool IsAddressInUse(Exception? exception) =>
        exception is not null
        && (exception.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase) || IsAddressInUse(exception.InnerException)
            || (exception is AggregateException aggregate && aggregate.InnerExceptions.Any(IsAddressInUse)));

    /// <summary>A client for <see cref="BaseAddress"/>; with <paramref name="withAuth"/> it sends the Bearer token.</summary>
    public HttpClient CreateClient(bool withAuth = false)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (withAuth)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AuthToken ?? throw new InvalidOperationException("This host generated its token."));
        }

        return client;
    }

    public async ValueTask DisposeAsync() => await _factory.DisposeAsync();

    /// <summary>Ports free on loopback right now, all different (held open together while choosing).</summary>
    public static int[] FreePorts(int count)
    {
        var listeners = Enumerable.Range(0, count).Select(_ => new TcpListener(IPAddress.Loopback, 0)).ToArray();
        try
        {
            foreach (var listener in listeners)
            {
                listener.Start();
            }

            return listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port).ToArray();
        }
        finally
        {
            foreach (var listener in listeners)
            {
                listener.Stop();
            }
        }
    }

    // WebApplicationFactory only needs a type from the entry assembly. Not `Program`: .NET 10 makes every top-level
    // Program public, and Orchestrator.Fakes (also referenced here) has one too, so the name is ambiguous.
    private sealed class Factory(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<ServiceSettings>
    {
        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            // Host settings reach Program as command-line arguments, so even NODE_ENV (read before the builder) sees them.
            foreach (var (key, value) in settings)
            {
                if (value is not null)
                {
                    builder.UseSetting(key, value);
                }
            }
        }
    }
}

/// <summary>One host shared by the API tests of a collection.</summary>
public sealed class HostFixture : IAsyncLifetime
{
    private OrchestratorHost? _host;

    public OrchestratorHost Host => _host ?? throw new InvalidOperationException("The host is not started.");

    public async ValueTask InitializeAsync() => _host = await OrchestratorHost.StartAsync();

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class HostCollection : ICollectionFixture<HostFixture>
{
    public const string Name = "host";
}

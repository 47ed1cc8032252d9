using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orchestrator.Host.Hosting;
using Orchestrator.Host.Options;
using Orchestrator.Host.Tests.Infrastructure;
using Orleans.Storage;

namespace Orchestrator.Host.Tests;

public sealed class HostModeTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Without_ORCHESTRATOR_AUTH_TOKEN_a_token_is_generated_and_works()
    {
        await using var host = await OrchestratorHost.StartAsync(new Dictionary<string, string?> { ["ORCHESTRATOR_AUTH_TOKEN"] = null });
        var options = host.Services.GetRequiredService<IOptions<ServiceSettings>>().Value;
        Assert.True(options.AuthTokenGenerated);
        Assert.True(options.AuthToken!.Length >= 40);

        using var client = host.CreateClient();
        using (var anonymous = await client.DeleteAsync("bots/x", Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        }

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", options.AuthToken);
        using var authorised = await client.DeleteAsync("bots/x", Ct);
        Assert.Equal(HttpStatusCode.NotFound, authorised.StatusCode);
    }

    [Fact]
    public async Task Outside_development_the_dashboard_needs_the_token_as_basic_password()
    {
        await using var host = await OrchestratorHost.StartAsync();
        using var client = host.CreateClient();
        using (var anonymous = await client.GetAsync("dashboard/", Ct))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Equal("Basic", anonymous.Headers.WwwAuthenticate.Single().Scheme);
        }

        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("operator:" + host.AuthToken)));
        using var authorised = await client.GetAsync("dashboard/", Ct);
        Assert.Equal(HttpStatusCode.OK, authorised.StatusCode);
        Assert.DoesNotContain(host.AuthToken!, await authorised.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_DASHBOARD_ENABLED_false_there_is_no_dashboard()
    {
        await using var host = await OrchestratorHost.StartAsync(new Dictionary<string, string?> { ["NODE_ENV"] = "development", ["DASHBOARD_ENABLED"] = "false" });
        using var client = host.CreateClient();
        using var dashboard = await client.GetAsync("dashboard/", Ct);
        Assert.Equal(HttpStatusCode.NotFound, dashboard.StatusCode);
        using var health = await client.GetAsync("health", Ct);
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task In_development_the_dashboard_is_open_and_its_data_endpoints_answer()
    {
        await using var host = await OrchestratorHost.StartAsync(new Dictionary<string, string?> { ["NODE_ENV"] = "development" });
        using var client = host.CreateClient();
        using (var page = await client.GetAsync("dashboard/", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, page.StatusCode);
            Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        }

        using var counters = await client.GetAsync("dashboard/DashboardCounters", Ct);
        Assert.Equal(HttpStatusCode.OK, counters.StatusCode);
        Assert.True(JsonDocument.Parse(await counters.Content.ReadAsStringAsync(Ct)).RootElement.TryGetProperty("hosts", out _));
    }

    [Fact]
    public void Cluster_unavailability_maps_to_503_and_other_errors_to_500()
    {
        Assert.Equal(503, ApiExceptionHandler.Classify(new SiloUnavailableException()).Status);
        Assert.Equal(503, ApiExceptionHandler.Classify(new TimeoutException()).Status);
        Assert.Equal(503, ApiExceptionHandler.Classify(new InconsistentStateException("conflict", "etag-1", "etag-2")).Status);
        var (status, _, detail) = ApiExceptionHandler.Classify(new InvalidOperationException("123:secret-token"));
        Assert.Equal(500, status);
        Assert.DoesNotContain("secret", detail, StringComparison.Ordinal);
    }
}

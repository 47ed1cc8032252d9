using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Orchestrator.Abstractions;
using Orchestrator.Host.Tests.Infrastructure;

namespace Orchestrator.Host.Tests;

[Collection(HostCollection.Name)]
public sealed class ApiTests(HostFixture fixture)
{
    private const string BotToken = "4242:bot-secret_TOKEN-value";
    private OrchestratorHost Host => fixture.Host;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string NewId() => "replica-" + Guid.NewGuid().ToString("N");

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static string CreateBody(string id, string token = BotToken) =>
        JsonSerializer.Serialize(new Dictionary<string, string> { ["replicaUUID"] = id, ["replicaSlug"] = "slug-" + id, ["token"] = token });

    /// <summary>Reads a problem details body, checking its shape and that no secret leaked into it.</summary>
    private async Task<JsonElement> ProblemAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.True(expected == response.StatusCode, $"expected {(int)expected}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        AssertNoSecret(text);
        var problem = JsonDocument.Parse(text).RootElement;
        Assert.Equal((int)expected, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
        return problem;
    }

    private void AssertNoSecret(string text)
    {
        Assert.DoesNotContain(BotToken, text, StringComparison.Ordinal);
        Assert.DoesNotContain("bot-secret", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Host.AuthToken!, text, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BotRoutes => new()
    {
        { "POST", "bots" },
        { "PUT", "bots/some-id" },
        { "DELETE", "bots/some-id" },
    };

    [Theory]
    [MemberData(nameof(BotRoutes))]
    public async Task Every_bots_route_needs_the_bearer_token(string method, string path)
    {
        using var client = Host.CreateClient();
        foreach (var authorization in new AuthenticationHeaderValue?[]
        {
            null,
            new("Bearer", "wrong-token"),
            new("Bearer", Host.AuthToken + "x"),
            new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("user:" + Host.AuthToken))),
        })
        {
            using var request = new HttpRequestMessage(new HttpMethod(method), path) { Content = method == "DELETE" ? null : Json(CreateBody(NewId())) };
            request.Headers.Authorization = authorization;
            using var response = await client.SendAsync(request, Ct);
            await ProblemAsync(response, HttpStatusCode.Unauthorized);
            Assert.Equal("Bearer", response.Headers.WwwAuthenticate.Single().Scheme);
        }
    }

    [Theory]
    [MemberData(nameof(BotRoutes))]
    public async Task Every_bots_route_accepts_the_right_token(string method, string path)
    {
        using var client = Host.CreateClient(withAuth: true);
        using var request = new HttpRequestMessage(new HttpMethod(method), path.Replace("some-id", NewId(), StringComparison.Ordinal))
        {
            Content = method == "DELETE" ? null : Json(CreateBody(NewId()).Replace("\"replicaUUID\"", "\"ignoredUUID\"", StringComparison.Ordinal)),
        };
        using var response = await client.SendAsync(request, Ct);
        // Authenticated: whatever the answer is, it is not 401.
        Assert.NotEqual(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Post_creates_the_bot_with_201_and_Location_then_409()
    {
        using var client = Host.CreateClient(withAuth: true);
        var id = NewId();
        using var created = await client.PostAsync("bots", Json(CreateBody(id)), Ct);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        Assert.Equal($"/bots/{id}", created.Headers.Location?.OriginalString);
        var body = await created.Content.ReadAsStringAsync(Ct);
        AssertNoSecret(body);
        Assert.Equal(id, JsonDocument.Parse(body).RootElement.GetProperty("replicaUUID").GetString());

        using var again = await client.PostAsync("bots", Json(CreateBody(id)), Ct);
        await ProblemAsync(again, HttpStatusCode.Conflict);

        var ids = await Host.GrainFactory.GetGrain<IOrchestratorGrain>(GrainKeys.Orchestrator).GetBotIdsAsync();
        Assert.Contains(id, ids);
    }

    [Theory]
    [InlineData("""{"replicaSlug":"s","token":"1:abc"}""", "replicaUUID")]
    [InlineData("""{"replicaUUID":"a/b","replicaSlug":"s","token":"1:abc"}""", "replicaUUID")]
    [InlineData("""{"replicaUUID":"ID","token":"1:abc"}""", "replicaSlug")]
    [InlineData("""{"replicaUUID":"ID","replicaSlug":"","token":"1:abc"}""", "replicaSlug")]
    [InlineData("""{"replicaUUID":"ID","replicaSlug":"s"}""", "token")]
    [InlineData("""{"replicaUUID":"ID","replicaSlug":"s","token":"bot-secret-no-colon"}""", "token")]
    public async Task Post_with_an_invalid_body_is_400_naming_the_field(string body, string field)
    {
        using var client = Host.CreateClient(withAuth: true);
        using var response = await client.PostAsync("bots", Json(body.Replace("ID", NewId(), StringComparison.Ordinal)), Ct);
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
    }

    [Fact]
    public async Task Put_covers_create_update_unchanged_mismatch_and_unknown()
    {
        using var client = Host.CreateClient(withAuth: true);
        var id = NewId();

        using (var unknown = await client.PutAsync($"bots/{id}", Json("""{"replicaSlug":"s"}"""), Ct))
        {
            await ProblemAsync(unknown, HttpStatusCode.NotFound);
        }

        using (var noSlug = await client.PutAsync($"bots/{id}", Json($$"""{"token":"{{BotToken}}"}"""), Ct))
        {
            await ProblemAsync(noSlug, HttpStatusCode.BadRequest);
        }

        using (var created = await client.PutAsync($"bots/{id}", Json($$"""{"replicaSlug":"s","token":"{{BotToken}}"}"""), Ct))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            Assert.Equal($"/bots/{id}", created.Headers.Location?.OriginalString);
            AssertNoSecret(await created.Content.ReadAsStringAsync(Ct));
        }

        using (var updated = await client.PutAsync($"bots/{id}", Json("""{"replicaSlug":"new-slug"}"""), Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, updated.StatusCode);
        }

        using (var unchanged = await client.PutAsync($"bots/{id}", Json($$"""{"replicaUUID":"{{id}}","replicaSlug":"new-slug"}"""), Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, unchanged.StatusCode);
        }

        using (var mismatch = await client.PutAsync($"bots/{id}", Json("""{"replicaUUID":"someone-else"}"""), Ct))
        {
            var problem = await ProblemAsync(mismatch, HttpStatusCode.BadRequest);
            Assert.Contains("differs", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        using (var badToken = await client.PutAsync($"bots/{id}", Json("""{"token":"bot-secret"}"""), Ct))
        {
            await ProblemAsync(badToken, HttpStatusCode.BadRequest);
        }

        var status = await Host.GrainFactory.GetGrain<IBotGrain>(id).GetStatusAsync();
        Assert.Equal("new-slug", status?.ReplicaSlug);
    }

    [Fact]
    public async Task Delete_is_204_then_404()
    {
        using var client = Host.CreateClient(withAuth: true);
        var id = NewId();
        using (var created = await client.PostAsync("bots", Json(CreateBody(id)), Ct))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        using (var deleted = await client.DeleteAsync($"bots/{id}", Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using var again = await client.DeleteAsync($"bots/{id}", Ct);
        await ProblemAsync(again, HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{"replicaUUID": """, "not valid JSON")]
    [InlineData("""{"replicaUUID": 5, "replicaSlug": "s", "token": "1:a"}""", "wrong JSON type")]
    [InlineData("""[1, 2]""", "JSON")]
    [InlineData("", "body is required")]
    public async Task A_malformed_body_is_400_with_a_clear_message(string body, string expected)
    {
        using var client = Host.CreateClient(withAuth: true);
        using var response = await client.PostAsync("bots", Json(body), Ct);
        var problem = await ProblemAsync(response, HttpStatusCode.BadRequest);
        Assert.Contains(expected, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_wrong_content_type_is_415()
    {
        using var client = Host.CreateClient(withAuth: true);
        using var response = await client.PostAsync("bots", new StringContent(CreateBody(NewId()), Encoding.UTF8, "text/plain"), Ct);
        await ProblemAsync(response, HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task An_oversized_body_is_413_declared_or_chunked()
    {
        using var client = Host.CreateClient(withAuth: true);
        var big = "{\"replicaSlug\":\"" + new string('x', 70 * 1024) + "\"}";
        using (var declared = await client.PutAsync($"bots/{NewId()}", Json(big), Ct))
        {
            await ProblemAsync(declared, HttpStatusCode.RequestEntityTooLarge);
        }

        // A body without a declared length is cut off by Kestrel's limit while it is read; a fresh connection,
        // since the server closes the one whose body it refused.
        using var fresh = Host.CreateClient(withAuth: true);
        using var chunked = new HttpRequestMessage(HttpMethod.Put, $"bots/{NewId()}") { Content = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big))) };
        chunked.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        chunked.Headers.TransferEncodingChunked = true;
        using var response = await fresh.SendAsync(chunked, Ct);
        await ProblemAsync(response, HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task Unknown_routes_and_methods_get_problem_details()
    {
        using var client = Host.CreateClient(withAuth: true);
        using (var notFound = await client.GetAsync("nothing-here", Ct))
        {
            await ProblemAsync(notFound, HttpStatusCode.NotFound);
        }

        using var patch = await client.PatchAsync($"bots/{NewId()}", Json("{}"), Ct);
        await ProblemAsync(patch, HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task Schema_lists_our_routes_with_the_bearer_scheme_and_no_dashboard()
    {
        using var client = Host.CreateClient();
        var text = await client.GetStringAsync("schema", Ct);
        AssertNoSecret(text);
        var document = JsonDocument.Parse(text).RootElement;
        var paths = document.GetProperty("paths").EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(["/alive", "/bots", "/bots/{replicaUUID}", "/health", "/ready", "/status"], paths);
        var scheme = document.GetProperty("components").GetProperty("securitySchemes").GetProperty("Bearer");
        Assert.Equal("bearer", scheme.GetProperty("scheme").GetString());
        Assert.True(document.GetProperty("paths").GetProperty("/bots").GetProperty("post").TryGetProperty("security", out _));
        Assert.False(document.GetProperty("paths").GetProperty("/health").GetProperty("get").TryGetProperty("security", out _));
        Assert.DoesNotContain("dashboard", text, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("/metrics", text, StringComparison.Ordinal);
        var ready = document.GetProperty("paths").GetProperty("/ready").GetProperty("get");
        Assert.False(ready.TryGetProperty("security", out _));
        Assert.True(ready.GetProperty("responses").TryGetProperty("503", out _));
    }

    [Theory]
    [InlineData("", "text/html", "/ui")]
    [InlineData("ui", "text/html", "swagger")]
    [InlineData("health", "application/json", "uptime")]
    [InlineData("status", "application/json", "[")]
    [InlineData("alive", "application/json", "alive")]
    [InlineData("ready", "application/json", "ready")]
    [InlineData("metrics", "text/plain", "# TYPE")]
    public async Task Public_pages_answer_without_a_token(string path, string mediaType, string expected)
    {
        using var client = Host.CreateClient();
        using var response = await client.GetAsync(path, Ct);
        var text = await response.Content.ReadAsStringAsync(Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(mediaType, response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(expected, text, StringComparison.OrdinalIgnoreCase);
        AssertNoSecret(text);
    }

    [Fact]
    public async Task Status_and_health_show_a_bot_without_its_token()
    {
        using var client = Host.CreateClient(withAuth: true);
        var id = NewId();
        using (var created = await client.PostAsync("bots", Json($$"""{"replicaUUID":"{{id}}","replicaSlug":"s","ownerUUID":"owner-1","token":"{{BotToken}}"}"""), Ct))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }

        var text = await client.GetStringAsync("status", Ct);
        AssertNoSecret(text);
        var bot = JsonDocument.Parse(text).RootElement.EnumerateArray().Single(b => b.GetProperty("replicaUUID").GetString() == id);
        Assert.Equal("s", bot.GetProperty("replicaSlug").GetString());
        Assert.Equal("owner-1", bot.GetProperty("ownerUUID").GetString());
        // Telegram is unreachable in these tests, so the bot is not running (yet); its status is a lower-case name.
        Assert.Contains(bot.GetProperty("status").GetString(), new[] { "running", "unhealthy", "stopped", "restarting", "failed" });
        foreach (var field in new[] { "statusSince", "silo", "restarts", "consecutiveFailures", "lastError", "lastPollAt", "updatesHandled", "conflicts" })
        {
            Assert.True(bot.TryGetProperty(field, out _), field);
        }

        var health = await client.GetFromJsonAsync<JsonElement>("health", Ct);
        Assert.Equal("unhealthy", health.GetProperty("status").GetString());
        Assert.True(health.GetProperty("uptime").GetDouble() >= 0);
    }

    [Fact]
    public void The_host_runs_in_the_environment_NODE_ENV_names() =>
        Assert.Equal("Test", Host.Services.GetRequiredService<IHostEnvironment>().EnvironmentName);
}

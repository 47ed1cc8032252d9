using Orchestrator.Grains;
using Orchestrator.Host.Endpoints;
using Orchestrator.Host.Hosting;

// NODE_ENV picks the .NET environment before any environment-specific setting is read.
var builder = WebApplication.CreateBuilder(NodeEnvironment.BuilderOptions(args));

// SPEC §3 settings from the environment, validated at start; LOG_LEVEL; bot and Telegram options.
builder.AddOrchestratorConfiguration();

// The Orleans silo: embedded by default, a Redis cluster when REDIS_CONNECTION_STRING is set; dashboard included.
builder.UseOrchestratorSilo();

// What the grains need: Telegram clients, the Sensay client, conversations, metrics, the clock.
builder.Services.AddBotRuntime();

// Log a generated auth token once, when ORCHESTRATOR_AUTH_TOKEN is unset.
builder.Services.AddOrchestratorStartup();

// REST API plumbing: Kestrel on HTTP_PORT, JSON, problem details, Bearer auth, OpenAPI.
builder.AddOrchestratorApi();

// OpenTelemetry metrics (orchestrator.*, runtime, HTTP server) for the Prometheus exporter.
builder.Services.AddOrchestratorMetrics();

var app = builder.Build();

// Errors as problem details, 413 for big bodies, authentication, Swagger UI at /ui.
app.UseOrchestratorApi();

// GET / : links to everything below.
app.MapHomeApi();

// GET /health, GET /status.
app.MapStatusApi();

// GET /alive (liveness), GET /ready (readiness): probes for container orchestrators.
app.MapProbesApi();

// POST /bots, PUT /bots/{replicaUUID}, DELETE /bots/{replicaUUID} (Bearer).
app.MapBotsApi();

// GET /schema : the OpenAPI document.
app.MapOpenApiDocs();

// /dashboard : the Orleans Dashboard (auth token outside development).
app.MapOrchestratorDashboard();

// GET /metrics : Prometheus scrape endpoint (public, no secrets).
app.MapOrchestratorMetrics();

// /_diagnostics : runtime figures and reload-now for the benchmark, only with DIAGNOSTICS_ENDPOINTS=true (Bearer).
app.MapDiagnosticsApi();

// Run; invalid configuration prints one line per problem and exits with code 1.
return await app.RunOrExitAsync();

/// <summary>Entry point, visible to WebApplicationFactory.</summary>
public partial class Program;

using Microsoft.AspNetCore.Http.HttpResults;

namespace Orchestrator.Host.Endpoints;

/// <summary><c>GET /</c>: a small HTML page linking everything an operator opens.</summary>
public static class HomeApi
{
    private const string Page = """
        <!doctype html>
        <html lang="en">
        <head><meta charset="utf-8"><title>Orchestrator</title>
        <style>body{font-family:system-ui,sans-serif;max-width:40rem;margin:3rem auto;line-height:1.5}code{background:#eee;padding:0 .2rem}</style>
        </head>
        <body>
        <h1>Orchestrator</h1>
        <p>Runs the Telegram bots of Sensay replicas on Microsoft Orleans.</p>
        <ul>
        <li><a href="/ui">Swagger UI</a>: try the REST API</li>
        <li><a href="/schema">OpenAPI schema</a> (JSON)</li>
        <li><a href="/health">Health</a>: healthy when every bot runs</li>
        <li><a href="/status">Status</a>: one entry per bot</li>
        <li><a href="/alive">Alive</a> and <a href="/ready">Ready</a>: liveness and readiness probes</li>
        <li><a href="/metrics">Metrics</a>: Prometheus text format</li>
        <li><a href="/dashboard/">Orleans Dashboard</a>: silos and grains (outside development: user name anything, password the auth token)</li>
        </ul>
        <p><code>/bots</code> needs <code>Authorization: Bearer &lt;ORCHESTRATOR_AUTH_TOKEN&gt;</code>.</p>
        </body>
        </html>
        """;

    public static RouteHandlerBuilder MapHomeApi(this IEndpointRouteBuilder routes) =>
        routes.MapGet("/", GetHome)
            .WithName("GetHome")
            .WithSummary("HTML home page")
            .ExcludeFromDescription();

    public static ContentHttpResult GetHome() => TypedResults.Content(Page, "text/html; charset=utf-8");
}

using Orchestrator.Host.Endpoints;
using Orchestrator.Host.Options;
using Orleans.Dashboard;

namespace Orchestrator.Host.Hosting;

/// <summary>The REST API's middleware and the non-feature endpoints (dashboard).</summary>
public static class ApiWebApplicationExtensions
{
    /// <summary>
    /// Problem details for exceptions and empty error responses, early refusal of oversized bodies, authentication,
    /// and Swagger UI at <c>/ui</c> (assets served from the package, pointing at <c>/schema</c>).
    /// </summary>
    public static WebApplication UseOrchestratorApi(this WebApplication app)
    {
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.Use(RefuseOversizedBodiesAsync);
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseSwaggerUI(ui =>
        {
            ui.RoutePrefix = "ui";
            ui.DocumentTitle = "Orchestrator API";
            ui.SwaggerEndpoint(OpenApiDocs.Path, "Orchestrator API");
        });
        return app;
    }

    /// <summary>
    /// The Orleans Dashboard at <c>/dashboard</c>, kept out of the OpenAPI document. Outside development it needs the
    /// auth token: HTTP Basic with any user name and the token as password (a browser asks for it), or Bearer. Not
    /// mapped with <c>DASHBOARD_ENABLED=false</c>.
    /// </summary>
    public static WebApplication MapOrchestratorDashboard(this WebApplication app)
    {
        if (!ServiceSettingsBinder.Bind(app.Configuration).DashboardEnabled)
        {
            return app;
        }

        var dashboard = app.MapOrleansDashboard(routePrefix: "/dashboard").ExcludeFromDescription();
        if (!app.Environment.IsDevelopment())
        {
            dashboard.RequireAuthorization(ApiAuth.DashboardPolicy);
        }

        return app;
    }

    /// <summary>Answers 413 before reading a body whose declared length is over the limit.</summary>
    private static Task RefuseOversizedBodiesAsync(HttpContext context, RequestDelegate next)
    {
        if (context.Request.ContentLength > ApiLimits.MaxRequestBodyBytes)
        {
            return TypedResults.Problem(
                $"The request body is larger than {ApiLimits.MaxRequestBodyBytes} bytes.",
                statusCode: StatusCodes.Status413PayloadTooLarge,
                title: "Payload too large").ExecuteAsync(context);
        }

        return next(context);
    }
}

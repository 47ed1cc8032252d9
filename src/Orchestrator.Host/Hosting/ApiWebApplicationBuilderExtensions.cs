using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.OpenApi;
using Orchestrator.Host.Endpoints;
using Orchestrator.Host.Options;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace Orchestrator.Host.Hosting;

/// <summary>Limits of the REST API.</summary>
public static class ApiLimits
{
    /// <summary>Request bodies above this size are refused with 413 (64 KiB).</summary>
    public const long MaxRequestBodyBytes = 64 * 1024;
}

/// <summary>Registers the REST API's services.</summary>
public static class ApiWebApplicationBuilderExtensions
{
    /// <summary>
    /// Kestrel on <c>HTTP_PORT</c> (all interfaces, 64 KiB bodies), JSON with the seed's names and lower-case enums,
    /// problem details for every error, Bearer authentication, the OpenAPI document and the uptime clock.
    /// </summary>
    public static WebApplicationBuilder AddOrchestratorApi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        // Kestrel's options are read while the app is built, before the start-time validation: read the port
        // unvalidated here (a bad value falls back to the default and the validator then stops the process).
        services.AddOptions<KestrelServerOptions>().Configure<IConfiguration>((kestrel, configuration) =>
        {
            kestrel.ListenAnyIP(ServiceSettingsBinder.Bind(configuration).HttpPort);
            kestrel.Limits.MaxRequestBodySize = ApiLimits.MaxRequestBodyBytes;
            kestrel.AddServerHeader = false;
        });

        services.Configure<JsonOptions>(json =>
        {
            json.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
            json.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        });

        // Binding failures (malformed JSON, wrong types, no body, wrong content type) reach the exception handler,
        // which answers them with a clear problem details body instead of an empty 400.
        services.Configure<RouteHandlerOptions>(routes => routes.ThrowOnBadRequest = true);
        services.AddProblemDetails(problems => problems.CustomizeProblemDetails = context =>
        {
            context.ProblemDetails.Detail ??= DefaultDetail(context.ProblemDetails.Status ?? context.HttpContext.Response.StatusCode);
        });
        services.AddExceptionHandler<ApiExceptionHandler>();

        services.AddAuthentication()
            .AddScheme<TokenAuthenticationOptions, TokenAuthenticationHandler>(ApiAuth.BearerScheme, _ => { })
            .AddScheme<TokenAuthenticationOptions, TokenAuthenticationHandler>(ApiAuth.DashboardScheme, o => o.AllowBasic = true);
        services.AddAuthorizationBuilder()
            .AddPolicy(ApiAuth.BotsPolicy, policy => policy.AddAuthenticationSchemes(ApiAuth.BearerScheme).RequireAuthenticatedUser())
            .AddPolicy(ApiAuth.DashboardPolicy, policy => policy.AddAuthenticationSchemes(ApiAuth.DashboardScheme).RequireAuthenticatedUser());

        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(swagger =>
        {
            swagger.SwaggerDoc(OpenApiDocs.DocumentName, new OpenApiInfo
            {
                Title = "Orchestrator API",
                Version = "v1",
                Description = "Runs the Telegram bots of Sensay replicas. /bots routes need 'Authorization: Bearer <ORCHESTRATOR_AUTH_TOKEN>'.",
            });
            // The dashboard's own routes would otherwise appear in the document.
            swagger.DocInclusionPredicate((_, api) => api.RelativePath is { } path && !path.StartsWith("dashboard", StringComparison.OrdinalIgnoreCase));
            swagger.AddSecurityDefinition(ApiAuth.BearerScheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "The value of ORCHESTRATOR_AUTH_TOKEN (generated and logged once at start when unset).",
            });
            swagger.OperationFilter<BearerOperationFilter>();
        });

        services.AddSingleton<Uptime>();
        return builder;
    }

    private static string DefaultDetail(int status) => status switch
    {
        400 => "The request is invalid.",
        401 => "Missing or invalid credentials.",
        403 => "Not allowed.",
        404 => "Nothing is served at this URL; see /schema for the API.",
        405 => "This HTTP method is not allowed at this URL; see /schema for the allowed ones.",
        406 => "The requested media type cannot be produced; this API answers JSON.",
        413 => $"The request body is larger than {ApiLimits.MaxRequestBodyBytes} bytes.",
        415 => "The request body must be JSON: send 'Content-Type: application/json'.",
        503 => "The service is unavailable right now; retry shortly.",
        >= 500 => "An unexpected error occurred.",
        _ => "The request could not be processed.",
    };
}

/// <summary>Marks the operations that need a Bearer token (those with an authorization policy) in the document.</summary>
internal sealed class BearerOperationFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (!context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<Microsoft.AspNetCore.Authorization.IAuthorizeData>().Any())
        {
            return;
        }

        operation.Security ??= [];
        operation.Security.Add(new OpenApiSecurityRequirement
        {
            [new OpenApiSecuritySchemeReference(ApiAuth.BearerScheme, context.Document)] = [],
        });
        operation.Responses ??= [];
        operation.Responses.TryAdd("401", new OpenApiResponse { Description = "Missing or wrong bearer token (problem details)." });
    }
}

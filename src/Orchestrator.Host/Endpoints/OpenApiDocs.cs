using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.Swagger;

namespace Orchestrator.Host.Endpoints;

/// <summary><c>GET /schema</c>: the OpenAPI document (Swashbuckle), served at a fixed path.</summary>
public static class OpenApiDocs
{
    public const string DocumentName = "v1";
    public const string Path = "/schema";

    public static RouteHandlerBuilder MapOpenApiDocs(this IEndpointRouteBuilder routes) =>
        routes.MapGet(Path, GetSchemaAsync)
            .WithName("GetSchema")
            .WithSummary("OpenAPI document")
            .ExcludeFromDescription();

    public static async Task<IResult> GetSchemaAsync(ISwaggerProvider swagger, CancellationToken cancellationToken)
    {
        var document = swagger.GetSwagger(DocumentName);
        using var buffer = new MemoryStream();
        await document.SerializeAsJsonAsync(buffer, OpenApiSpecVersion.OpenApi3_0, cancellationToken);
        return TypedResults.Bytes(buffer.ToArray(), "application/json");
    }
}

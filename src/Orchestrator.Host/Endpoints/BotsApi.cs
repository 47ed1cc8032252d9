using Microsoft.AspNetCore.Http.HttpResults;
using Orchestrator.Abstractions;
using Orchestrator.Host.Hosting;

namespace Orchestrator.Host.Endpoints;

/// <summary><c>/bots</c>: create, update and delete bots (Bearer token required). Changes apply at once.</summary>
public static class BotsApi
{
    public static RouteGroupBuilder MapBotsApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/bots")
            .WithTags("Bots")
            .RequireAuthorization(ApiAuth.BotsPolicy)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status503ServiceUnavailable);

        group.MapPost("", CreateBotAsync)
            .WithName("CreateBot")
            .WithSummary("Add a bot and start it")
            .WithDescription("201 with Location /bots/{replicaUUID}; 400 invalid body; 409 a bot with this replicaUUID exists.")
            .Accepts<CreateBotRequest>("application/json")
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

        group.MapPut("/{replicaUUID}", UpdateBotAsync)
            .WithName("UpdateBot")
            .WithSummary("Change a bot (partial), or create it when a token and slug are given")
            .WithDescription("204 updated or unchanged (the bot restarts only if something changed); 201 created; 400 invalid or a body replicaUUID that differs from the path; 404 unknown and no token.")
            .Accepts<UpdateBotRequest>("application/json")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType);

        group.MapDelete("/{replicaUUID}", DeleteBotAsync)
            .WithName("DeleteBot")
            .WithSummary("Stop a bot and forget it")
            .ProducesProblem(StatusCodes.Status404NotFound);

        return group;
    }

    public static async Task<Results<Created<BotResponse>, ValidationProblem, ProblemHttpResult>> CreateBotAsync(
        CreateBotRequest request,
        IGrainFactory grains,
        IHostEnvironment environment,
        CancellationToken cancellationToken)
    {
        var errors = BotRequestValidation.ValidateCreate(request, RequireUuid(environment));
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        var definition = new BotDefinition(request.ReplicaUuid!, request.ReplicaSlug!, request.OwnerUuid, request.Token!);
        var result = await Orchestrator(grains).CreateBotAsync(definition).WaitAsync(cancellationToken);
        return result switch
        {
            CreateBotResult.Created => Created(definition),
            _ => TypedResults.Problem(
                $"A bot with replicaUUID {definition.ReplicaUuid} already exists; use PUT /bots/{{replicaUUID}} to change it.",
                statusCode: StatusCodes.Status409Conflict,
                title: "Bot exists"),
        };
    }

    public static async Task<Results<NoContent, Created<BotResponse>, ValidationProblem, ProblemHttpResult>> UpdateBotAsync(
        string replicaUuid,
        UpdateBotRequest request,
        IGrainFactory grains,
        IHostEnvironment environment,
        CancellationToken cancellationToken)
    {
        var errors = BotRequestValidation.ValidateUpdate(replicaUuid, request, RequireUuid(environment));
        if (errors.Count > 0)
        {
            return Invalid(errors);
        }

        var patch = new BotPatch(request.ReplicaSlug, request.OwnerUuid, request.Token);
        var result = await Orchestrator(grains).UpdateBotAsync(replicaUuid, patch).WaitAsync(cancellationToken);
        return result switch
        {
            UpdateBotResult.Updated or UpdateBotResult.Unchanged => TypedResults.NoContent(),
            UpdateBotResult.Created => Created(new BotDefinition(replicaUuid, request.ReplicaSlug!, request.OwnerUuid, request.Token!)),
            UpdateBotResult.SlugRequired => Invalid(new() { ["replicaSlug"] = ["replicaSlug is required to create a bot."] }),
            _ => TypedResults.Problem(
                $"No bot with replicaUUID {replicaUuid}; give a token and a replicaSlug to create it.",
                statusCode: StatusCodes.Status404NotFound,
                title: "Bot not found"),
        };
    }

    public static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> DeleteBotAsync(
        string replicaUuid,
        IGrainFactory grains,
        IHostEnvironment environment,
        CancellationToken cancellationToken)
    {
        if (BotRequestValidation.ReplicaUuidProblem(replicaUuid, RequireUuid(environment)) is { } problem)
        {
            return Invalid(new() { ["replicaUUID"] = [problem] });
        }

        return await Orchestrator(grains).DeleteBotAsync(replicaUuid).WaitAsync(cancellationToken)
            ? TypedResults.NoContent()
            : TypedResults.Problem($"No bot with replicaUUID {replicaUuid}.", statusCode: StatusCodes.Status404NotFound, title: "Bot not found");
    }

    private static IOrchestratorGrain Orchestrator(IGrainFactory grains) => grains.GetGrain<IOrchestratorGrain>(GrainKeys.Orchestrator);

    /// <summary>Production keys bots by real replica UUIDs; development and test accept any short id.</summary>
    private static bool RequireUuid(IHostEnvironment environment) => environment.IsProduction();

    private static Created<BotResponse> Created(BotDefinition definition) =>
        TypedResults.Created($"/bots/{Uri.EscapeDataString(definition.ReplicaUuid)}", new BotResponse(definition.ReplicaUuid, definition.ReplicaSlug, definition.OwnerUuid));

    private static ValidationProblem Invalid(Dictionary<string, string[]> errors) =>
        TypedResults.ValidationProblem(errors, detail: BotRequestValidation.Summary(errors), title: "Invalid request");
}

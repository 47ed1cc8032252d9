using System.Text.RegularExpressions;

namespace Orchestrator.Host.Endpoints;

/// <summary>
/// Pure validation of the /bots requests. Messages name the field and never quote the token.
/// In production a replicaUUID must be a UUID; development and test accept any short id without '/'.
/// </summary>
public static partial class BotRequestValidation
{
    public const int MaxIdLength = 128;
    public const int MaxSlugLength = 256;
    public const int MaxTokenLength = 160;

    /// <summary>Errors of a <c>POST /bots</c> body, by JSON field; empty when valid.</summary>
    public static Dictionary<string, string[]> ValidateCreate(CreateBotRequest request, bool requireUuid)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        Add(errors, "replicaUUID", request.ReplicaUuid is null ? "replicaUUID is required." : ReplicaUuidProblem(request.ReplicaUuid, requireUuid));
        Add(errors, "replicaSlug", request.ReplicaSlug is null ? "replicaSlug is required." : SlugProblem(request.ReplicaSlug));
        Add(errors, "ownerUUID", OwnerProblem(request.OwnerUuid));
        Add(errors, "token", request.Token is null ? "token is required." : TokenProblem(request.Token));
        return errors;
    }

    /// <summary>Errors of a <c>PUT /bots/{replicaUUID}</c>: the path id and the partial body; empty when valid.</summary>
    public static Dictionary<string, string[]> ValidateUpdate(string replicaUuid, UpdateBotRequest request, bool requireUuid)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        Add(errors, "replicaUUID", ReplicaUuidProblem(replicaUuid, requireUuid)
            ?? (request.ReplicaUuid is not null && !string.Equals(request.ReplicaUuid, replicaUuid, StringComparison.Ordinal)
                ? "replicaUUID in the body differs from the one in the path."
                : null));
        Add(errors, "replicaSlug", request.ReplicaSlug is null ? null : SlugProblem(request.ReplicaSlug));
        Add(errors, "ownerUUID", OwnerProblem(request.OwnerUuid));
        Add(errors, "token", request.Token is null ? null : TokenProblem(request.Token));
        return errors;
    }

    /// <summary>Why <paramref name="replicaUuid"/> is not acceptable as a bot key; null when it is.</summary>
    public static string? ReplicaUuidProblem(string replicaUuid, bool requireUuid)
    {
        if (string.IsNullOrWhiteSpace(replicaUuid))
        {
            return "replicaUUID must not be empty.";
        }

        if (requireUuid)
        {
            return Guid.TryParseExact(replicaUuid, "D", out _) ? null : "replicaUUID must be a UUID such as 3f2504e0-4f89-41d3-9a0c-0305e82c3301.";
        }

        if (replicaUuid.Length > MaxIdLength)
        {
            return $"replicaUUID must be at most {MaxIdLength} characters.";
        }

        return replicaUuid.Any(c => c == '/' || char.IsWhiteSpace(c) || char.IsControl(c))
            ? "replicaUUID must not contain '/', spaces or control characters."
            : null;
    }

    /// <summary>True when <paramref name="token"/> has the shape of a Telegram bot token (<c>&lt;bot id&gt;:&lt;secret&gt;</c>).</summary>
    public static bool IsTokenShape(string token) => token.Length <= MaxTokenLength && TokenShape().IsMatch(token);

    private static string? SlugProblem(string slug) =>
        string.IsNullOrWhiteSpace(slug) ? "replicaSlug must not be empty."
        : slug.Length > MaxSlugLength ? $"replicaSlug must be at most {MaxSlugLength} characters."
        : slug.Any(char.IsControl) ? "replicaSlug must not contain control characters."
        : null;

    private static string? OwnerProblem(string? owner) =>
        owner is null ? null
        : owner.Length > MaxIdLength ? $"ownerUUID must be at most {MaxIdLength} characters."
        : owner.Any(char.IsControl) ? "ownerUUID must not contain control characters."
        : null;

    private static string? TokenProblem(string token) =>
        IsTokenShape(token) ? null : "token must be a Telegram bot token: digits, a colon, then letters, digits, '_' or '-' (as BotFather issues it).";

    private static void Add(Dictionary<string, string[]> errors, string field, string? problem)
    {
        if (problem is not null)
        {
            errors[field] = [problem];
        }
    }

    /// <summary>All messages on one line, for the problem's <c>detail</c>.</summary>
    public static string Summary(Dictionary<string, string[]> errors) => string.Join(" ", errors.Values.SelectMany(v => v));

    [GeneratedRegex(@"^\d{1,16}:[A-Za-z0-9_-]{1,128}\z", RegexOptions.CultureInvariant)]
    private static partial Regex TokenShape();
}

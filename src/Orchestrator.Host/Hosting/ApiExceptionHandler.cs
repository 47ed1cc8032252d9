using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Orleans.Runtime.Messaging;
using Orleans.Storage;

namespace Orchestrator.Host.Hosting;

/// <summary>
/// Turns every exception that reaches the pipeline into problem details: bad requests (malformed JSON, wrong
/// types, missing body, wrong content type, too large) keep their 4xx status with a clear message; an unavailable
/// cluster is 503 with <c>Retry-After</c>; anything else is 500 without internal details.
/// </summary>
internal sealed partial class ApiExceptionHandler(ILogger<ApiExceptionHandler> logger) : IExceptionHandler
{
    /// <summary>Seconds a client should wait before retrying after a 503.</summary>
    public const int RetryAfterSeconds = 5;

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            return true; // The client went away; nobody reads an answer.
        }

        var (status, title, detail) = Classify(exception);
        switch (status)
        {
            case StatusCodes.Status503ServiceUnavailable:
                LogUnavailable(logger, httpContext.Request.Method, exception.GetType().Name);
                httpContext.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
                break;
            case >= 500:
                LogUnexpected(logger, httpContext.Request.Method, exception);
                detail += $" Error id: {httpContext.TraceIdentifier}.";
                break;
            default:
                LogBadRequest(logger, status, exception.GetType().Name);
                break;
        }

        httpContext.Response.StatusCode = status;
        await TypedResults.Problem(detail, statusCode: status, title: title).ExecuteAsync(httpContext);
        return true;
    }

    /// <summary>Maps an exception to a status, a title and a detail that never contain request values.</summary>
    internal static (int Status, string Title, string Detail) Classify(Exception exception) => exception switch
    {
        BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge } =>
            (413, "Payload too large", $"The request body is larger than {ApiLimits.MaxRequestBodyBytes} bytes."),
        BadHttpRequestException { StatusCode: StatusCodes.Status415UnsupportedMediaType } =>
            (415, "Unsupported media type", "The request body must be JSON: send 'Content-Type: application/json'."),
        BadHttpRequestException { InnerException: JsonException json } =>
            (400, "Invalid JSON", $"The request body is not valid JSON for this operation: {Describe(json)}"),
        BadHttpRequestException bad when bad.Message.Contains("no body was provided", StringComparison.OrdinalIgnoreCase) =>
            (400, "Missing body", "A JSON request body is required."),
        BadHttpRequestException bad =>
            (bad.StatusCode, "Bad request", bad.Message),
        JsonException json =>
            (400, "Invalid JSON", $"The request body is not valid JSON for this operation: {Describe(json)}"),
        _ when IsClusterUnavailable(exception) =>
            (503, "Cluster unavailable", $"The Orleans cluster cannot serve this request right now; retry in {RetryAfterSeconds} s."),
        _ => (500, "Internal error", "An unexpected error occurred."),
    };

    /// <summary>
    /// True for the failures of a grain call that mean "the cluster (or a silo) cannot serve this now": unreachable,
    /// or a state write that met another activation's (a stale duplicate while membership changes; it deactivates).
    /// </summary>
    internal static bool IsClusterUnavailable(Exception exception) => exception switch
    {
        SiloUnavailableException or OrleansMessageRejectionException or ConnectionFailedException or TimeoutException
            or InconsistentStateException => true,
        AggregateException { InnerExceptions: [var inner] } => IsClusterUnavailable(inner),
        _ => false,
    };

    /// <summary>The JSON error without the parser's byte position noise; it never quotes values.</summary>
    private static string Describe(JsonException json)
    {
        var where = json.Path is { Length: > 0 } path ? $" (at {path})" : "";
        var message = json.Message;
        if (message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal))
        {
            return $"a value has the wrong JSON type{where}.";
        }

        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return (cut > 0 ? message[..cut] : message).TrimEnd() + where;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Method} request failed: cluster unavailable ({Error}); answered 503")]
    private static partial void LogUnavailable(ILogger logger, string method, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Method} request failed unexpectedly")]
    private static partial void LogUnexpected(ILogger logger, string method, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Bad request ({Status}): {Error}")]
    private static partial void LogBadRequest(ILogger logger, int status, string error);
}

using System.Net;

namespace Orchestrator.Sensay;

/// <summary>
/// A Sensay call failed: an error status, malformed JSON, an empty answer, a timeout or a connection error.
/// The message never contains the API key or request headers.
/// </summary>
public sealed class SensayApiException : Exception
{
    /// <summary>Creates the exception.</summary>
    public SensayApiException(string message, HttpStatusCode? statusCode = null, string? requestId = null, Exception? innerException = null)
        : base(message, innerException)
    {
        StatusCode = statusCode;
        RequestId = requestId;
    }

    /// <summary>The HTTP status Sensay answered with; null when there was no answer.</summary>
    public HttpStatusCode? StatusCode { get; }

    /// <summary>The <c>request_id</c> from Sensay's error body, for support.</summary>
    public string? RequestId { get; }

    /// <summary>True when trying again later may succeed (no answer, 408, 429 or 5xx).</summary>
    public bool IsTransient => StatusCode is null or HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests
        || (int)StatusCode >= 500;
}

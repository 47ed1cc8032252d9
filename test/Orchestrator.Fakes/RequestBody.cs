using System.Buffers;
using Microsoft.AspNetCore.Http.Features;

namespace Orchestrator.Fakes;

/// <summary>Reads a whole request body straight from Kestrel's pipe: no stream copy through a pooled 80 KiB buffer.</summary>
internal static class RequestBody
{
    /// <summary>The body's bytes; empty, without reading, when the request has none (a GET, a POST of Content-Length 0).</summary>
    public static async Task<byte[]> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength == 0 || request.HttpContext.Features.Get<IHttpRequestBodyDetectionFeature>() is { CanHaveBody: false })
        {
            return [];
        }

        var reader = request.BodyReader;
        while (true)
        {
            var read = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            if (read.IsCompleted)
            {
                var body = read.Buffer.ToArray();
                reader.AdvanceTo(read.Buffer.End);
                return body;
            }

            // Not all of it yet: look at everything again once more has arrived.
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
        }
    }
}

using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchestrator.Fakes.Telegram;

/// <summary>Reads Bot API parameters from the query, a JSON body (chunked or not), a form, or nothing.</summary>
internal static class BotApiParameters
{
    public static async Task<JsonObject?> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var parameters = new JsonObject();
        foreach (var (key, value) in request.Query)
        {
            parameters[key] = FromString(value.ToString());
        }

        if (request.HasFormContentType)
        {
            var form = await request.ReadFormAsync(cancellationToken).ConfigureAwait(false);
            foreach (var (key, value) in form)
            {
                parameters[key] = FromString(value.ToString());
            }

            return parameters;
        }

        var bytes = await RequestBody.ReadAsync(request, cancellationToken).ConfigureAwait(false);
        if (bytes.Length == 0)
        {
            return parameters;
        }

        try
        {
            if (JsonNode.Parse(bytes) is not JsonObject body)
            {
                return null;
            }

            if (parameters.Count == 0)
            {
                return body;
            }

            foreach (var (key, value) in body.ToList())
            {
                body.Remove(key);
                parameters[key] = value;
            }

            return parameters;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Form and query values are strings; JSON-looking ones (objects, arrays) are parsed like Telegram does.</summary>
    private static JsonNode? FromString(string value)
    {
        var trimmed = value.TrimStart();
        if (trimmed.StartsWith('{') || trimmed.StartsWith('['))
        {
            try
            {
                return JsonNode.Parse(value);
            }
            catch (JsonException)
            {
                // Not JSON after all: keep the string.
            }
        }

        return JsonValue.Create(value);
    }

    public static long? GetLong(JsonObject parameters, string name) => AsLong(parameters[name]);

    public static int? GetInt(JsonObject parameters, string name) => AsLong(parameters[name]) is { } value ? checked((int)value) : null;

    public static bool GetBool(JsonObject parameters, string name) => parameters[name] switch
    {
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        JsonValue v when v.TryGetValue<string>(out var s) => s is "true" or "True" or "1",
        _ => false,
    };

    public static string? GetString(JsonObject parameters, string name) => parameters[name] switch
    {
        JsonValue v when v.TryGetValue<string>(out var s) => s,
        JsonValue v => v.ToJsonString(),
        _ => null,
    };

    public static long? AsLong(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return null;
        }

        if (value.TryGetValue<long>(out var l))
        {
            return l;
        }

        if (value.TryGetValue<double>(out var d) && d == Math.Floor(d))
        {
            return (long)d;
        }

        return value.TryGetValue<string>(out var s) && long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed)
            ? parsed
            : null;
    }
}

using System.Buffers;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchestrator.Fakes.Telegram;

/// <summary>Wire shapes of the Bot API, written with System.Text.Json only.</summary>
internal static class TelegramJson
{
    public static JsonObject User(TelegramUser user)
    {
        var json = new JsonObject { ["id"] = user.Id, ["is_bot"] = user.IsBot, ["first_name"] = user.FirstName };
        if (user.LastName is not null)
        {
            json["last_name"] = user.LastName;
        }

        if (user.Username is not null)
        {
            json["username"] = user.Username;
        }

        if (!user.IsBot)
        {
            json["language_code"] = "en";
        }

        return json;
    }

    public static JsonObject Chat(TelegramChat chat)
    {
        var json = new JsonObject { ["id"] = chat.Id, ["type"] = chat.Type };
        if (chat.Title is not null)
        {
            json["title"] = chat.Title;
        }

        if (chat.FirstName is not null)
        {
            json["first_name"] = chat.FirstName;
        }

        if (chat.Username is not null)
        {
            json["username"] = chat.Username;
        }

        if (chat.IsForum)
        {
            json["is_forum"] = true;
        }

        return json;
    }

    /// <summary><c>{"ok":true,"result":…}</c>. The result is written as it is: it may belong to another node, no copy is made.</summary>
    public static byte[] Ok(JsonNode? result) => Ok(result, static (writer, result) =>
    {
        if (result is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            result.WriteTo(writer);
        }
    });

    /// <summary><c>{"ok":true,"result":[…]}</c> of values already serialized (queued updates).</summary>
    public static byte[] OkArray(IEnumerable<byte[]> items) => Ok(items, static (writer, items) =>
    {
        writer.WriteStartArray();
        foreach (var item in items)
        {
            writer.WriteRawValue(item, skipInputValidation: true);
        }

        writer.WriteEndArray();
    });

    [ThreadStatic]
    private static ArrayBufferWriter<byte>? t_buffer;

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>Serializes with this thread's buffer and writer, reused from call to call (the emulator answers thousands of calls a second).</summary>
    public static byte[] ToJsonBytes<TState>(TState state, Action<Utf8JsonWriter, TState> write)
    {
        var buffer = t_buffer ??= new ArrayBufferWriter<byte>(8192);
        buffer.ResetWrittenCount();
        var writer = t_writer ??= new Utf8JsonWriter(buffer);
        writer.Reset(buffer);
        write(writer, state);
        writer.Flush();
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Ok<TState>(TState state, Action<Utf8JsonWriter, TState> writeResult) =>
        ToJsonBytes((state, writeResult), static (writer, envelope) =>
        {
            writer.WriteStartObject();
            writer.WriteBoolean("ok", true);
            writer.WritePropertyName("result");
            envelope.writeResult(writer, envelope.state);
            writer.WriteEndObject();
        });

    public static byte[] Error(int code, string description, int? retryAfter = null, long? migrateToChatId = null)
    {
        var json = new JsonObject { ["ok"] = false, ["error_code"] = code, ["description"] = description };
        if (retryAfter is not null || migrateToChatId is not null)
        {
            var parameters = new JsonObject();
            if (retryAfter is { } seconds)
            {
                parameters["retry_after"] = seconds;
            }

            if (migrateToChatId is { } chatId)
            {
                parameters["migrate_to_chat_id"] = chatId;
            }

            json["parameters"] = parameters;
        }

        return JsonSerializer.SerializeToUtf8Bytes(json);
    }

    public static string DefaultDescription(int code, int? retryAfter) => code switch
    {
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden: bot was blocked by the user",
        404 => "Not Found",
        409 => "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
        429 => $"Too Many Requests: retry after {retryAfter ?? 1}",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        _ => "Error",
    };
}

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

    public static string Ok(JsonNode? result) => new JsonObject { ["ok"] = true, ["result"] = result }.ToJsonString();

    public static string Error(int code, string description, int? retryAfter = null, long? migrateToChatId = null)
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

        return json.ToJsonString();
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

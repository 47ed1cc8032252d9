using System.Buffers.Text;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly.Timeout;

namespace Orchestrator.Sensay;

/// <summary>
/// Typed Sensay API client (registered with <see cref="Microsoft.Extensions.DependencyInjection.SensayServiceCollectionExtensions.AddSensayClient"/>).
/// Headers are set per request, so the organisation secret goes only to the Sensay API, never to the licence service.
/// </summary>
public sealed partial class SensayClient(
    HttpClient httpClient,
    IOptions<SensayOptions> options,
    SensayUserCache users,
    TimeProvider timeProvider,
    ILogger<SensayClient> logger) : ISensayClient
{
    /// <summary>Marks a non-GET request as safe to retry (the retry predicate reads it).</summary>
    internal static readonly HttpRequestOptionsKey<bool> RetrySafe = new("Orchestrator.Sensay.RetrySafe");

    private const int MaxErrorBodyChars = 4096;

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowReadingFromString,
    };

    private readonly SensayOptions _options = options.Value;

    /// <inheritdoc />
    public async Task<ReplicaPage> GetReplicasPageAsync(int page, int pageSize, CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(page, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, 100);

        const string operation = "list replicas";
        var path = string.Create(CultureInfo.InvariantCulture, $"v1/replicas?integration=telegram&page={page}&page_size={pageSize}");
        using var request = CreateRequest(HttpMethod.Get, path, userId: null);
        var dto = await SendAsync<ReplicaListDto>(request, operation, cancellationToken).ConfigureAwait(false);
        if (dto.Items is null || dto.Total is null)
        {
            throw new SensayApiException($"Sensay {operation} failed: the answer has no 'items' or 'total'.", HttpStatusCode.OK);
        }

        var items = new List<SensayReplica>(dto.Items.Count);
        foreach (var item in dto.Items)
        {
            if (string.IsNullOrWhiteSpace(item?.Uuid))
            {
                continue; // an item without an id cannot become a bot
            }

            items.Add(new SensayReplica(
                item.Uuid,
                item.Slug ?? string.Empty,
                item.OwnerUuid,
                string.IsNullOrWhiteSpace(item.TelegramIntegration?.Token) ? null : item.TelegramIntegration.Token,
                item.TelegramIntegration?.ServiceName));
        }

        return new ReplicaPage(items, dto.Total.Value);
    }

    /// <inheritdoc />
    public async Task<string> GetCompletionAsync(
        string replicaUuid, TelegramChatContext context, string content, string? imageUrl, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(replicaUuid);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(content);

        const string operation = "chat completion";
        var body = new CompletionRequestDto(content, SkipChatHistory: false, imageUrl, TelegramDataDto.From(context));
        using var request = CreateRequest(HttpMethod.Post, $"v1/replicas/{Uri.EscapeDataString(replicaUuid)}/chat/completions/telegram", context.UserId);
        request.Content = JsonContent.Create(body, options: Json);
        // Not marked retry-safe: a completion POST that may have reached Sensay is never sent twice (it would bill and
        // store a second answer); the resilience pipeline retries it only when the connection was never established.
        var dto = await SendAsync<CompletionResponseDto>(request, operation, cancellationToken).ConfigureAwait(false);
        if (dto.Success == false || string.IsNullOrWhiteSpace(dto.Content))
        {
            throw new SensayApiException($"Sensay {operation} failed: the answer is empty.", HttpStatusCode.OK);
        }

        return dto.Content;
    }

    /// <inheritdoc />
    public async Task SaveChatHistoryAsync(
        string replicaUuid, TelegramChatContext context, string content, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(replicaUuid);
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(content);

        using var request = CreateRequest(HttpMethod.Post, $"v1/replicas/{Uri.EscapeDataString(replicaUuid)}/chat/history/telegram", context.UserId);
        request.Content = JsonContent.Create(new HistoryRequestDto(content, TelegramDataDto.From(context)), options: Json);
        using var response = await SendRawAsync(request, "save chat history", cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, "save chat history", cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public Task EnsureUserAsync(long telegramUserId, CancellationToken cancellationToken = default) =>
        users.EnsureAsync(telegramUserId, EnsureUserCoreAsync, cancellationToken);

    /// <inheritdoc />
    public async Task<bool> IsLicenseValidAsync(string replicaUuid, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(replicaUuid);
        if (!_options.LicenseCheckEnabled)
        {
            return true;
        }

        const string operation = "licence check";
        var uri = new Uri(_options.LicenseBaseUrl!, $"api/license/telegram/{Uri.EscapeDataString(replicaUuid)}");
        // No Sensay API headers here: this is another service and must not see the organisation secret.
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        request.Headers.Authorization = new AuthenticationHeaderValue(
            "Bearer", LicenseToken.Create(_options.LicenseSecretKey!, replicaUuid, timeProvider.GetUtcNow()));
        var dto = await SendAsync<LicenseResponseDto>(request, operation, cancellationToken).ConfigureAwait(false);
        return dto.Valid ?? throw new SensayApiException($"Sensay {operation} failed: the answer has no 'valid'.", HttpStatusCode.OK);
    }

    private async Task EnsureUserCoreAsync(long telegramUserId)
    {
        // Runs once for concurrent callers, so it does not take one caller's token; the pipeline's total timeout bounds it.
        var ct = CancellationToken.None;
        using (var me = CreateRequest(HttpMethod.Get, "v1/users/me", telegramUserId))
        using (var response = await SendRawAsync(me, "get user", ct).ConfigureAwait(false))
        {
            if (response.IsSuccessStatusCode)
            {
                return;
            }

            if (response.StatusCode != HttpStatusCode.Unauthorized)
            {
                await EnsureSuccessAsync(response, "get user", ct).ConfigureAwait(false);
            }
        }

        var id = telegramUserId.ToString(CultureInfo.InvariantCulture);
        using var create = CreateRequest(HttpMethod.Post, "v1/users", userId: null);
        create.Content = JsonContent.Create(new CreateUserRequestDto([new LinkedAccountDto(id, "telegram")]), options: Json);
        // Creating a user is idempotent for us: a repeat answers 409, which counts as success.
        create.Options.Set(RetrySafe, true);
        using var created = await SendRawAsync(create, "create user", ct).ConfigureAwait(false);
        if (created.StatusCode == HttpStatusCode.Conflict)
        {
            return;
        }

        await EnsureSuccessAsync(created, "create user", ct).ConfigureAwait(false);
        LogUserCreated(logger, telegramUserId);
    }

    private HttpRequestMessage CreateRequest(HttpMethod method, string relativePath, long? userId)
    {
        if (_options.BaseUrl is null)
        {
            throw new SensayApiException("The Sensay API URL (SENSAY_API_URL) is not configured.");
        }

        var baseUrl = _options.BaseUrl.AbsoluteUri.EndsWith('/') ? _options.BaseUrl : new Uri(_options.BaseUrl.AbsoluteUri + "/");
        var request = new HttpRequestMessage(method, new Uri(baseUrl, relativePath));
        if (!string.IsNullOrEmpty(_options.ApiKey))
        {
            request.Headers.TryAddWithoutValidation("X-ORGANIZATION-SECRET", _options.ApiKey);
        }

        request.Headers.TryAddWithoutValidation("X-API-VERSION", _options.ApiVersion);
        if (userId is { } id)
        {
            request.Headers.TryAddWithoutValidation("X-USER-ID", id.ToString(CultureInfo.InvariantCulture));
            request.Headers.TryAddWithoutValidation("X-USER-ID-TYPE", "telegram");
        }

        return request;
    }

    private async Task<T> SendAsync<T>(HttpRequestMessage request, string operation, CancellationToken cancellationToken)
        where T : class
    {
        using var response = await SendRawAsync(request, operation, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, operation, cancellationToken).ConfigureAwait(false);
        try
        {
            return await response.Content.ReadFromJsonAsync<T>(Json, cancellationToken).ConfigureAwait(false)
                ?? throw new SensayApiException($"Sensay {operation} failed: the answer is empty.", response.StatusCode);
        }
        catch (JsonException ex)
        {
            // JsonException messages quote a path and position, never the request.
            throw new SensayApiException($"Sensay {operation} failed: malformed JSON in the answer ({ex.Message})", response.StatusCode, innerException: ex);
        }
        catch (NotSupportedException ex)
        {
            throw new SensayApiException($"Sensay {operation} failed: the answer is not JSON.", response.StatusCode, innerException: ex);
        }
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, string operation, CancellationToken cancellationToken)
    {
        try
        {
            return await httpClient.SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception ex) when (ex is TimeoutRejectedException or OperationCanceledException)
        {
            throw new SensayApiException($"Sensay {operation} timed out.", innerException: ex);
        }
        catch (HttpRequestException ex)
        {
            throw new SensayApiException(Redact($"Sensay {operation} failed: {ex.Message}"), ex.StatusCode, innerException: ex);
        }
    }

    private async Task EnsureSuccessAsync(HttpResponseMessage response, string operation, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode)
        {
            return;
        }

        string? error = null;
        string? requestId = null;
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            var dto = JsonSerializer.Deserialize<ErrorDto>(text, Json);
            error = dto?.Error.ValueKind == JsonValueKind.String ? dto.Error.GetString() : null;
            requestId = dto?.RequestId;
        }
        catch (JsonException)
        {
            // not Sensay's error shape (a proxy page): the status code says enough
        }

        if (error is { Length: > MaxErrorBodyChars })
        {
            error = error[..MaxErrorBodyChars];
        }

        var message = $"Sensay {operation} failed with HTTP {(int)response.StatusCode}"
            + (error is null ? "." : $": {error}")
            + (requestId is null ? string.Empty : $" (request id {requestId})");
        throw new SensayApiException(Redact(message), response.StatusCode, requestId);
    }

    private string Redact(string text)
    {
        if (!string.IsNullOrEmpty(_options.ApiKey))
        {
            text = text.Replace(_options.ApiKey, "***", StringComparison.Ordinal);
        }

        if (!string.IsNullOrEmpty(_options.LicenseSecretKey))
        {
            text = text.Replace(_options.LicenseSecretKey, "***", StringComparison.Ordinal);
        }

        return text;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Created Sensay user for Telegram user {TelegramUserId}")]
    private static partial void LogUserCreated(ILogger logger, long telegramUserId);
}

/// <summary>Builds the short-lived HS256 JWT of the licence check by hand (no JWT package needed).</summary>
internal static class LicenseToken
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(1);

    public static string Create(string secret, string replicaUuid, DateTimeOffset now)
    {
        var header = Base64Url.EncodeToString("""{"alg":"HS256","typ":"JWT"}"""u8);
        var payload = Base64Url.EncodeToString(JsonSerializer.SerializeToUtf8Bytes(new Dictionary<string, object>
        {
            ["sub"] = replicaUuid,
            ["replicaUUID"] = replicaUuid,
            ["iat"] = now.ToUnixTimeSeconds(),
            ["exp"] = (now + Lifetime).ToUnixTimeSeconds(),
        }));
        var signingInput = $"{header}.{payload}";
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes(signingInput));
        return $"{signingInput}.{Base64Url.EncodeToString(signature)}";
    }
}

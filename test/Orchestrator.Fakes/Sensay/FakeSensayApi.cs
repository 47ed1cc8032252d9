using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Orchestrator.Fakes.Sensay;

/// <summary>
/// An in-process Sensay API (the part in sensay-api.md): replica paging, Telegram chat completions and history, users;
/// with request recording, awaitable requests and fault injection. Thread-safe.
/// </summary>
public sealed class FakeSensayApi : IAsyncDisposable
{
    private static readonly TimeSpan DefaultWaitTimeout = TimeSpan.FromSeconds(10);

    private readonly Lock _sync = new();
    private readonly ConditionWaiters _waiters;
    private readonly FakeSensayOptions _options;
    private readonly List<FakeReplica> _replicas = [];
    private readonly HashSet<string> _replicaIds = new(StringComparer.Ordinal);
    private readonly List<RecordedRequest> _requests = [];
    private readonly List<CompletionRequest> _completions = [];
    private readonly List<HistoryRequest> _history = [];
    private readonly Dictionary<string, string> _users = new(StringComparer.Ordinal);
    private readonly HashSet<string> _expiredLicenses = new(StringComparer.Ordinal);
    private readonly List<(SensayRoute Route, SensayFault Fault, int[] Remaining)> _faults = [];
    private readonly CancellationTokenSource _shutdown = new();
    private Func<CompletionRequest, CancellationToken, Task<string>> _completionHandler = DefaultCompletion;
    private WebApplication? _app;
    private long _sequence;
    private int _disposed;

    private FakeSensayApi(FakeSensayOptions options)
    {
        _options = options;
        _waiters = new ConditionWaiters(_sync);
    }

    /// <summary>Base URL to use as <c>SENSAY_API_URL</c>.</summary>
    public Uri BaseUrl { get; private set; } = null!;

    /// <summary>The options.</summary>
    public FakeSensayOptions Options => _options;

    /// <summary>Computes the answer of a completion (default: <c>"Echo: " + content</c>). Replace it to return long texts, delay, or block until released.</summary>
    public Func<CompletionRequest, CancellationToken, Task<string>> CompletionHandler
    {
        get
        {
            lock (_sync)
            {
                return _completionHandler;
            }
        }

        set
        {
            ArgumentNullException.ThrowIfNull(value);
            lock (_sync)
            {
                _completionHandler = value;
            }
        }
    }

    /// <summary>Starts the fake on 127.0.0.1 (<see cref="FakeSensayOptions.Port"/>, 0 = any free port).</summary>
    public static async Task<FakeSensayApi> StartAsync(FakeSensayOptions? options = null, CancellationToken cancellationToken = default)
    {
        var fake = new FakeSensayApi(options ?? new FakeSensayOptions());
        var app = FakeHost.CreateBuilder(fake._options.Port, fake._options.LogWarningsToConsole).Build();
        app.Run(fake.HandleAsync);
        try
        {
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await app.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        fake._app = app;
        fake.BaseUrl = FakeHost.GetBaseUrl(app);
        return fake;
    }

    /// <summary>Stops promptly, also with hung requests or blocked completion handlers in flight (their token is cancelled).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        await _shutdown.CancelAsync().ConfigureAwait(false);
        lock (_sync)
        {
            _waiters.Dispose(nameof(FakeSensayApi));
        }

        if (_app is not null)
        {
            await FakeHost.StopAsync(_app).ConfigureAwait(false);
        }
    }

    // ---------------------------------------------------------------- replicas

    /// <summary>The replica list, in paging order.</summary>
    public IReadOnlyList<FakeReplica> Replicas
    {
        get
        {
            lock (_sync)
            {
                return [.. _replicas];
            }
        }
    }

    /// <summary>Replaces the replica list.</summary>
    public void SetReplicas(IEnumerable<FakeReplica> replicas)
    {
        lock (_sync)
        {
            _replicas.Clear();
            _replicas.AddRange(replicas);
            _replicaIds.Clear();
            _replicaIds.UnionWith(_replicas.Select(r => r.Uuid));
        }
    }

    /// <summary>Appends a replica.</summary>
    public void AddReplica(FakeReplica replica)
    {
        lock (_sync)
        {
            _replicas.Add(replica);
            _replicaIds.Add(replica.Uuid);
        }
    }

    /// <summary>The licence service answers <c>{"valid":false}</c> for this replica from now on.</summary>
    public void ExpireLicense(string uuid)
    {
        lock (_sync)
        {
            _expiredLicenses.Add(uuid);
        }
    }

    /// <summary>Replaces a replica in place; false when unknown.</summary>
    public bool UpdateReplica(string uuid, Func<FakeReplica, FakeReplica> update)
    {
        lock (_sync)
        {
            var index = _replicas.FindIndex(r => r.Uuid == uuid);
            if (index < 0)
            {
                return false;
            }

            _replicas[index] = update(_replicas[index]);
            _replicaIds.Clear();
            _replicaIds.UnionWith(_replicas.Select(r => r.Uuid));
            return true;
        }
    }

    /// <summary>Removes a replica; false when unknown.</summary>
    public bool RemoveReplica(string uuid)
    {
        lock (_sync)
        {
            _replicaIds.Remove(uuid);
            return _replicas.RemoveAll(r => r.Uuid == uuid) > 0;
        }
    }

    // ---------------------------------------------------------------- users

    /// <summary>Makes a Telegram user known (GET /v1/users/me → 200, POST /v1/users → 409).</summary>
    public void AddUser(string telegramUserId)
    {
        lock (_sync)
        {
            _users.TryAdd(telegramUserId, NewUserId());
        }
    }

    /// <summary>True when the Telegram user exists.</summary>
    public bool HasUser(string telegramUserId)
    {
        lock (_sync)
        {
            return _users.ContainsKey(telegramUserId);
        }
    }

    /// <summary>Telegram user ids of all users.</summary>
    public IReadOnlyList<string> Users
    {
        get
        {
            lock (_sync)
            {
                return [.. _users.Keys];
            }
        }
    }

    // ---------------------------------------------------------------- records, waiting, faults

    /// <summary>Every request, oldest first.</summary>
    public IReadOnlyList<RecordedRequest> Requests
    {
        get
        {
            lock (_sync)
            {
                return [.. _requests];
            }
        }
    }

    /// <summary>Completion requests (recorded before the handler runs), oldest first.</summary>
    public IReadOnlyList<CompletionRequest> Completions
    {
        get
        {
            lock (_sync)
            {
                return [.. _completions];
            }
        }
    }

    /// <summary>Chat history requests, oldest first.</summary>
    public IReadOnlyList<HistoryRequest> HistoryRequests
    {
        get
        {
            lock (_sync)
            {
                return [.. _history];
            }
        }
    }

    /// <summary>Completes with the first request (already received or future) matching the predicate.</summary>
    public Task<RecordedRequest> WaitForRequestAsync(Func<RecordedRequest, bool> predicate, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(predicate);
        var limit = timeout ?? DefaultWaitTimeout;
        return _waiters.WaitAsync(
            () => _requests.Find(r => predicate(r)),
            limit,
            () => $"Timed out after {limit.TotalSeconds:0.###} s waiting for a Sensay request matching the predicate; received {_requests.Count}: " +
                  string.Join("; ", _requests.TakeLast(5).Select(r => $"{r.Method} {r.PathAndQuery}")),
            cancellationToken);
    }

    /// <summary>Completes with the first completion request (already received or future) matching the predicate.</summary>
    public Task<CompletionRequest> WaitForCompletionAsync(Func<CompletionRequest, bool>? predicate = null, TimeSpan? timeout = null, CancellationToken cancellationToken = default)
    {
        var match = predicate ?? (_ => true);
        var limit = timeout ?? DefaultWaitTimeout;
        return _waiters.WaitAsync(
            () => _completions.Find(c => match(c)),
            limit,
            () => $"Timed out after {limit.TotalSeconds:0.###} s waiting for a completion request matching the predicate; received {_completions.Count}.",
            cancellationToken);
    }

    /// <summary>Queues a fault for the next requests of a route kind.</summary>
    public void InjectFault(SensayRoute route, SensayFault fault)
    {
        ArgumentNullException.ThrowIfNull(fault);
        ArgumentOutOfRangeException.ThrowIfLessThan(fault.Times, 1);
        lock (_sync)
        {
            _faults.Add((route, fault, [fault.Times]));
        }
    }

    /// <summary>Removes every queued fault.</summary>
    public void ClearFaults()
    {
        lock (_sync)
        {
            _faults.Clear();
        }
    }

    // ---------------------------------------------------------------- HTTP

    private static Task<string> DefaultCompletion(CompletionRequest request, CancellationToken cancellationToken) =>
        Task.FromResult($"Echo: {request.Content}");

    private static string NewUserId() => Guid.NewGuid().ToString();

    private static (SensayRoute Route, string? Uuid) Classify(string method, string path)
    {
        var segments = path.Trim('/').Split('/');
        return segments switch
        {
            ["v1", "replicas"] when method == "GET" => (SensayRoute.ReplicaList, null),
            ["v1", "replicas", var uuid, "chat", "completions", "telegram"] when method == "POST" => (SensayRoute.Completion, uuid),
            ["v1", "replicas", var uuid, "chat", "history", "telegram"] when method == "POST" => (SensayRoute.History, uuid),
            ["v1", "users", "me"] when method == "GET" => (SensayRoute.Users, null),
            ["v1", "users"] when method == "POST" => (SensayRoute.Users, null),
            ["api", "license", "telegram", var uuid] when method == "GET" => (SensayRoute.License, uuid),
            _ => (SensayRoute.Other, null),
        };
    }

    private async Task HandleAsync(HttpContext context)
    {
        var request = context.Request;
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, _shutdown.Token);
        var cancellationToken = linked.Token;
        byte[] body;
        try
        {
            body = await RequestBody.ReadAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or BadHttpRequestException)
        {
            context.Abort();
            return;
        }

        var (route, uuid) = Classify(request.Method, request.Path.Value ?? "/");
        var page = int.TryParse(request.Query["page"].FirstOrDefault() ?? request.Query["page_index"].FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var p) ? p : 1;
        SensayFault? fault;
        lock (_sync)
        {
            if (_options.RecordRequests)
            {
                _requests.Add(new RecordedRequest(
                    ++_sequence,
                    _options.TimeProvider.GetUtcNow(),
                    route,
                    request.Method,
                    request.Path + request.QueryString,
                    request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase),
                    Encoding.UTF8.GetString(body)));
            }

            fault = TakeFault(route, page);
            _waiters.Notify();
        }

        if (fault is not null)
        {
            try
            {
                if (fault.Delay > TimeSpan.Zero)
                {
                    await Task.Delay(fault.Delay, cancellationToken).ConfigureAwait(false);
                }

                if (fault.Hang)
                {
                    await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                context.Abort();
                return;
            }

            if (fault.StatusCode is { } status)
            {
                await WriteErrorAsync(context, status, fault.Error ?? DefaultError(status)).ConfigureAwait(false);
                return;
            }

            if (fault.MalformedJson)
            {
                await WriteAsync(context, 200, """{"success":true,"items":[{"uuid":"trunc""").ConfigureAwait(false);
                return;
            }
        }

        if (route == SensayRoute.License && _options.LicenseSecretKey is { } secret)
        {
            // Another service: no organisation secret, no API version; a JWT for the replica instead.
            await CheckLicenseAsync(context, secret, uuid!).ConfigureAwait(false);
            return;
        }

        if (_options.ApiKey is { } key && request.Headers["X-ORGANIZATION-SECRET"].ToString() != key)
        {
            await WriteErrorAsync(context, 401, "Unauthorized: invalid or missing X-ORGANIZATION-SECRET").ConfigureAwait(false);
            return;
        }

        if (_options.RequireApiVersion && request.Headers["X-API-VERSION"].ToString() != FakeSensayOptions.ApiVersion)
        {
            await WriteErrorAsync(context, 400, $"Invalid or missing X-API-VERSION header (expected {FakeSensayOptions.ApiVersion})").ConfigureAwait(false);
            return;
        }

        JsonObject? json = null;
        if (request.Method == "POST")
        {
            if (!(request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) ?? false))
            {
                await WriteErrorAsync(context, 415, "Content-Type must be application/json").ConfigureAwait(false);
                return;
            }

            try
            {
                json = JsonNode.Parse(body) as JsonObject;
            }
            catch (JsonException)
            {
                json = null;
            }

            if (json is null)
            {
                await WriteErrorAsync(context, 400, "Invalid JSON body").ConfigureAwait(false);
                return;
            }
        }

        switch (route)
        {
            case SensayRoute.ReplicaList:
                await ListReplicasAsync(context, page, fault).ConfigureAwait(false);
                break;
            case SensayRoute.Completion:
                await CompleteAsync(context, uuid!, json!, fault, cancellationToken).ConfigureAwait(false);
                break;
            case SensayRoute.History:
                await StoreHistoryAsync(context, uuid!, json!).ConfigureAwait(false);
                break;
            case SensayRoute.Users when request.Method == "GET":
                await GetMeAsync(context).ConfigureAwait(false);
                break;
            case SensayRoute.Users:
                await CreateUserAsync(context, json!).ConfigureAwait(false);
                break;
            default:
                await WriteErrorAsync(context, 404, "Not found").ConfigureAwait(false);
                break;
        }
    }

    private SensayFault? TakeFault(SensayRoute route, int page)
    {
        var index = _faults.FindIndex(f => (f.Route == SensayRoute.Any || f.Route == route) && (f.Fault.Page is null || (route == SensayRoute.ReplicaList && f.Fault.Page == page)));
        if (index < 0)
        {
            return null;
        }

        var (_, fault, remaining) = _faults[index];
        if (--remaining[0] <= 0)
        {
            _faults.RemoveAt(index);
        }

        return fault;
    }

    private async Task ListReplicasAsync(HttpContext context, int page, SensayFault? fault)
    {
        var query = context.Request.Query;
        var pageSize = int.TryParse(query["page_size"].FirstOrDefault(), NumberStyles.Integer, CultureInfo.InvariantCulture, out var size) ? size : 24;
        if (page < 1 || pageSize < 1 || pageSize > 100)
        {
            await WriteErrorAsync(context, 400, "page must be >= 1 and page_size between 1 and 100").ConfigureAwait(false);
            return;
        }

        var slug = query["slug"].FirstOrDefault();
        JsonObject response;
        lock (_sync)
        {
            var all = _replicas.Where(r => slug is null || r.Slug == slug).ToList();
            response = new JsonObject
            {
                ["success"] = true,
                ["type"] = "replicas",
                ["items"] = new JsonArray([.. all.Skip((page - 1) * pageSize).Take(pageSize).Select(r => (JsonNode)ReplicaJson(r))]),
                ["total"] = all.Count + (fault?.TotalDelta ?? 0),
            };
        }

        await WriteAsync(context, 200, response.ToJsonString()).ConfigureAwait(false);
    }

    private static JsonObject ReplicaJson(FakeReplica replica) => new()
    {
        ["uuid"] = replica.Uuid,
        ["slug"] = replica.Slug,
        ["name"] = replica.Name ?? replica.Slug,
        ["owner_uuid"] = replica.OwnerUuid,
        ["greeting"] = $"Hi, I am {replica.Name ?? replica.Slug}.",
        ["short_description"] = "A replica served by the fake Sensay API.",
        ["tags"] = new JsonArray("fake", "test"),
        ["private"] = false,
        ["created_at"] = "2025-01-01T00:00:00Z",
        ["discord_integration"] = new JsonObject { ["token"] = null, ["service_name"] = null, ["is_active"] = false },
        ["telegram_integration"] = replica.HasTelegramIntegration
            ? new JsonObject { ["token"] = replica.TelegramToken, ["service_name"] = replica.ServiceName, ["is_active"] = true }
            : null,
    };

    private async Task CompleteAsync(HttpContext context, string uuid, JsonObject body, SensayFault? fault, CancellationToken cancellationToken)
    {
        if (body["content"] is not JsonValue contentNode || !contentNode.TryGetValue<string>(out var content))
        {
            await WriteErrorAsync(context, 400, "content is required").ConfigureAwait(false);
            return;
        }

        CompletionRequest completion;
        Func<CompletionRequest, CancellationToken, Task<string>> handler;
        lock (_sync)
        {
            if (!_replicaIds.Contains(uuid))
            {
                completion = null!;
                handler = null!;
            }
            else
            {
                completion = new CompletionRequest(
                    uuid,
                    content,
                    body["skip_chat_history"] is JsonValue skip && skip.TryGetValue<bool>(out var s) && s,
                    body["imageURL"] is JsonValue image && image.TryGetValue<string>(out var url) ? url : null,
                    ReadTelegramData(body),
                    context.Request.Headers["X-USER-ID"].FirstOrDefault(),
                    context.Request.Headers["X-USER-ID-TYPE"].FirstOrDefault(),
                    (JsonObject)body.DeepClone());
                if (_options.RecordRequests)
                {
                    _completions.Add(completion);
                }

                handler = _completionHandler;
                _waiters.Notify();
            }
        }

        if (completion is null)
        {
            await WriteErrorAsync(context, 404, $"Replica {uuid} not found").ConfigureAwait(false);
            return;
        }

        string answer;
        try
        {
            answer = fault?.EmptyContent == true ? string.Empty : await handler(completion, cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            context.Abort();
            return;
        }
        catch (Exception)
        {
            await WriteErrorAsync(context, 500, "Internal server error").ConfigureAwait(false);
            return;
        }

        await WriteAsync(context, 200, new JsonObject { ["success"] = true, ["content"] = answer }.ToJsonString()).ConfigureAwait(false);
    }

    private async Task StoreHistoryAsync(HttpContext context, string uuid, JsonObject body)
    {
        bool known;
        lock (_sync)
        {
            known = _replicaIds.Contains(uuid);
            if (known && _options.RecordRequests)
            {
                _history.Add(new HistoryRequest(
                    uuid,
                    body["content"]?.ToString() ?? string.Empty,
                    ReadTelegramData(body),
                    context.Request.Headers["X-USER-ID"].FirstOrDefault(),
                    (JsonObject)body.DeepClone()));
                _waiters.Notify();
            }
        }

        await (known
            ? WriteAsync(context, 200, """{"success":true}""")
            : WriteErrorAsync(context, 404, $"Replica {uuid} not found")).ConfigureAwait(false);
    }

    private async Task CheckLicenseAsync(HttpContext context, string secret, string uuid)
    {
        var authorization = context.Request.Headers.Authorization.ToString();
        if (!authorization.StartsWith("Bearer ", StringComparison.Ordinal) || !IsValidToken(authorization["Bearer ".Length..], secret, uuid))
        {
            await WriteErrorAsync(context, 401, "Unauthorized: invalid licence token").ConfigureAwait(false);
            return;
        }

        bool expired;
        lock (_sync)
        {
            expired = _expiredLicenses.Contains(uuid);
        }

        await WriteAsync(context, 200, new JsonObject { ["valid"] = !expired }.ToJsonString()).ConfigureAwait(false);
    }

    /// <summary>An HS256 JWT signed with <paramref name="secret"/>, for <paramref name="uuid"/>, not expired.</summary>
    private bool IsValidToken(string token, string secret, string uuid)
    {
        var parts = token.Split('.');
        if (parts.Length != 3)
        {
            return false;
        }

        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.ASCII.GetBytes($"{parts[0]}.{parts[1]}"));
        byte[] signature;
        JsonObject? payload;
        try
        {
            signature = Base64Url.DecodeFromChars(parts[2]);
            payload = JsonNode.Parse(Base64Url.DecodeFromChars(parts[1])) as JsonObject;
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return false;
        }

        return CryptographicOperations.FixedTimeEquals(signature, expected)
            && payload?["replicaUUID"]?.GetValue<string>() == uuid
            && payload["exp"]?.GetValue<long>() is { } exp
            && exp > _options.TimeProvider.GetUtcNow().ToUnixTimeSeconds();
    }

    private async Task GetMeAsync(HttpContext context)
    {
        var userId = context.Request.Headers["X-USER-ID"].FirstOrDefault();
        string? id = null;
        lock (_sync)
        {
            if (userId is not null)
            {
                _users.TryGetValue(userId, out id);
            }
        }

        if (id is null)
        {
            await WriteErrorAsync(context, 401, "User not found").ConfigureAwait(false);
            return;
        }

        await WriteAsync(context, 200, UserJson(id, userId!).ToJsonString()).ConfigureAwait(false);
    }

    private async Task CreateUserAsync(HttpContext context, JsonObject body)
    {
        var accounts = (body["linkedAccounts"] as JsonArray ?? [])
            .OfType<JsonObject>()
            .Select(a => (Id: a["accountID"]?.ToString(), Type: a["accountType"]?.ToString()))
            .Where(a => !string.IsNullOrEmpty(a.Id) && a.Type == "telegram")
            .ToList();
        if (accounts.Count == 0)
        {
            await WriteErrorAsync(context, 400, "linkedAccounts must contain a telegram account").ConfigureAwait(false);
            return;
        }

        string? id = null;
        lock (_sync)
        {
            if (!accounts.Exists(a => _users.ContainsKey(a.Id!)))
            {
                id = NewUserId();
                foreach (var account in accounts)
                {
                    _users[account.Id!] = id;
                }

                _waiters.Notify();
            }
        }

        await (id is null
            ? WriteErrorAsync(context, 409, "User already exists")
            : WriteAsync(context, 200, UserJson(id, accounts[0].Id!).ToJsonString())).ConfigureAwait(false);
    }

    private static JsonObject UserJson(string id, string telegramUserId) => new()
    {
        ["success"] = true,
        ["id"] = id,
        ["linkedAccounts"] = new JsonArray(new JsonObject { ["accountID"] = telegramUserId, ["accountType"] = "telegram" }),
    };

    private static TelegramData? ReadTelegramData(JsonObject body)
    {
        if (body["telegram_data"] is not JsonObject data)
        {
            return null;
        }

        static long? Long(JsonNode? node) => node is JsonValue v && v.TryGetValue<long>(out var l) ? l : null;
        static string? Text(JsonNode? node) => node is JsonValue v && v.TryGetValue<string>(out var s) ? s : null;
        return new TelegramData(
            Text(data["chat_type"]),
            Long(data["chat_id"]),
            Text(data["chat_name"]),
            Long(data["user_id"]),
            Text(data["username"]),
            Long(data["message_id"]),
            Long(data["message_thread_id"]));
    }

    private static string DefaultError(int status) => status switch
    {
        400 => "Bad request",
        401 => "Unauthorized",
        404 => "Not found",
        409 => "Conflict",
        415 => "Unsupported media type",
        502 => "Bad gateway",
        503 => "Service unavailable",
        _ => "Internal server error",
    };

    private static Task WriteErrorAsync(HttpContext context, int status, string error) =>
        WriteAsync(context, status, new JsonObject
        {
            ["success"] = false,
            ["error"] = error,
            ["request_id"] = Guid.NewGuid().ToString("N")[..16],
            ["fingerprint"] = Guid.NewGuid().ToString("N")[..12],
        }.ToJsonString());

    private static async Task WriteAsync(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        try
        {
            await context.Response.WriteAsync(body, context.RequestAborted).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // The client is gone.
        }
    }
}

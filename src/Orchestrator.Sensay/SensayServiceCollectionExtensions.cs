using System.Net.Sockets;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Orchestrator.Sensay;
using Polly;
using Polly.Timeout;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>DI registration of the typed Sensay client.</summary>
public static class SensayServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="SensayOptions"/> (validated at start), the shared <see cref="SensayUserCache"/> and the typed
    /// <see cref="ISensayClient"/> with its resilience pipeline:
    /// <list type="bullet">
    /// <item>a total timeout per call (<see cref="SensayOptions.RequestTimeout"/>), retries included;</item>
    /// <item>retries with exponential backoff and jitter, honouring Retry-After, on transient failures (5xx, 408, 429,
    /// connection errors, attempt timeouts) — but only for GETs and requests marked safe (creating a user, where a
    /// repeat just answers 409);</item>
    /// <item>other POSTs (completions, chat history) are retried only when the connection could not even be
    /// established (refused, name not resolved), so Sensay surely never saw them: a completion is never silently
    /// duplicated, and a 5xx or timeout on it goes back to the caller, who apologises to the user;</item>
    /// <item>a per-attempt timeout (<see cref="SensayOptions.AttemptTimeout"/>) for retryable requests only, since a
    /// completion may legitimately take most of the total.</item>
    /// </list>
    /// HTTP client logging of header values is redacted (the organisation secret is a header).
    /// </summary>
    public static IHttpClientBuilder AddSensayClient(this IServiceCollection services, Action<SensayOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<SensayOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        options.ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<SensayOptions>, SensayOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new SensayUserCache(sp.GetRequiredService<IOptions<SensayOptions>>().Value.KnownUsersCapacity));

        var builder = services
            .AddHttpClient<ISensayClient, SensayClient>((sp, http) =>
            {
                var o = sp.GetRequiredService<IOptions<SensayOptions>>().Value;
                // The pipeline's total timeout decides; this is only a backstop.
                http.Timeout = o.RequestTimeout + TimeSpan.FromSeconds(10);
            })
            // No per-request logging handlers: one completion per reply, and each request's log scope (with its
            // redacted URI) was a tenth of the strings the reply path allocated. SensayClient logs what goes wrong.
            .RemoveAllLoggers();

        builder.AddResilienceHandler("sensay", static (pipeline, context) =>
        {
            var o = context.ServiceProvider.GetRequiredService<IOptions<SensayOptions>>().Value;
            pipeline.AddTimeout(o.RequestTimeout);
            if (o.MaxRetries > 0)
            {
                pipeline.AddRetry(new HttpRetryStrategyOptions
                {
                    MaxRetryAttempts = o.MaxRetries,
                    Delay = o.RetryDelay,
                    BackoffType = DelayBackoffType.Exponential,
                    UseJitter = true,
                    ShouldHandle = static args => ValueTask.FromResult(ShouldRetry(args.Outcome, args.Context)),
                });
            }

            pipeline.AddTimeout(new TimeoutStrategyOptions
            {
                TimeoutGenerator = args => ValueTask.FromResult(
                    args.Context.GetRequestMessage() is { } request && IsRetrySafe(request) ? o.AttemptTimeout : o.RequestTimeout),
            });
        });

        return builder;
    }

    internal static bool ShouldRetry(Outcome<HttpResponseMessage> outcome, ResilienceContext context)
    {
        if (context.CancellationToken.IsCancellationRequested)
        {
            return false;
        }

        var request = context.GetRequestMessage();
        if (request is not null && IsRetrySafe(request))
        {
            return HttpClientResiliencePredicates.IsTransient(outcome);
        }

        return NeverReachedServer(outcome.Exception);
    }

    internal static bool IsRetrySafe(HttpRequestMessage request) =>
        request.Method == HttpMethod.Get || request.Method == HttpMethod.Head
        || (request.Options.TryGetValue(SensayClient.RetrySafe, out var safe) && safe);

    /// <summary>True when the failure happened before a connection existed, so the server cannot have seen the request.</summary>
    internal static bool NeverReachedServer(Exception? exception) => exception is HttpRequestException
    {
        HttpRequestError: HttpRequestError.NameResolutionError,
    } or HttpRequestException
    {
        HttpRequestError: HttpRequestError.ConnectionError,
        InnerException: SocketException { SocketErrorCode: SocketError.ConnectionRefused or SocketError.HostUnreachable or SocketError.NetworkUnreachable or SocketError.HostNotFound },
    };
}

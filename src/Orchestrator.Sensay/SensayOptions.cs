using Microsoft.Extensions.Options;

namespace Orchestrator.Sensay;

/// <summary>Settings of the Sensay API client. Secrets come from the environment only and are never printed.</summary>
public sealed class SensayOptions
{
    /// <summary>Sensay API base URL (<c>SENSAY_API_URL</c>). Null: no upstream; calls fail with <see cref="SensayApiException"/>.</summary>
    public Uri? BaseUrl { get; set; }

    /// <summary>Organisation secret (<c>SENSAY_API_KEY</c>), sent as <c>X-ORGANIZATION-SECRET</c>.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Sent as <c>X-API-VERSION</c>. Default <c>2025-04-01</c>.</summary>
    public string ApiVersion { get; set; } = "2025-04-01";

    /// <summary>Total time one call may take, retries included (completions take seconds). Default 60 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Time one attempt of a retryable GET may take. Default 20 s.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>Retries of a call that may be retried (see <c>AddSensayClient</c>). Default 3, range 0..10.</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>First retry delay (exponential with jitter). Default 500 ms.</summary>
    public TimeSpan RetryDelay { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How many known Telegram users are remembered, so <c>GET /v1/users/me</c> is not repeated. Default 100,000.</summary>
    public int KnownUsersCapacity { get; set; } = 100_000;

    /// <summary>Optional licence service base URL (<c>SENSAY_URL</c>); the check runs only when <see cref="LicenseSecretKey"/> is set too.</summary>
    public Uri? LicenseBaseUrl { get; set; }

    /// <summary>Optional HS256 key for the licence check JWT (<c>SENSAY_SECRET_KEY</c>).</summary>
    public string? LicenseSecretKey { get; set; }

    /// <summary>True when both licence settings are set.</summary>
    public bool LicenseCheckEnabled => LicenseBaseUrl is not null && !string.IsNullOrEmpty(LicenseSecretKey);

    /// <inheritdoc />
    public override string ToString() =>
        $"SensayOptions {{ BaseUrl = {BaseUrl}, ApiKey = {(ApiKey is null ? "null" : "***")}, ApiVersion = {ApiVersion}, " +
        $"RequestTimeout = {RequestTimeout}, LicenseBaseUrl = {LicenseBaseUrl}, LicenseSecretKey = {(LicenseSecretKey is null ? "null" : "***")} }}";
}

/// <summary>Validates <see cref="SensayOptions"/>, collecting every error and naming the variable to fix.</summary>
public sealed class SensayOptionsValidator : IValidateOptions<SensayOptions>
{
    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, SensayOptions options)
    {
        List<string> errors = [];
        if (options.BaseUrl is { } url && (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)))
        {
            errors.Add("SENSAY_API_URL must be an absolute http:// or https:// URL.");
        }

        if (options.BaseUrl is not null && string.IsNullOrWhiteSpace(options.ApiKey))
        {
            errors.Add("SENSAY_API_KEY must be set when SENSAY_API_URL is set.");
        }

        if (string.IsNullOrWhiteSpace(options.ApiVersion))
        {
            errors.Add("The Sensay API version must not be empty.");
        }

        if (options.RequestTimeout <= TimeSpan.Zero || options.AttemptTimeout <= TimeSpan.Zero)
        {
            errors.Add("The Sensay request and attempt timeouts must be positive.");
        }

        if (options.MaxRetries is < 0 or > 10)
        {
            errors.Add("The Sensay retry count must be between 0 and 10.");
        }

        if (options.KnownUsersCapacity < 1)
        {
            errors.Add("The Sensay known-users capacity must be positive.");
        }

        if (options.LicenseBaseUrl is { } license && (!license.IsAbsoluteUri || (license.Scheme != Uri.UriSchemeHttp && license.Scheme != Uri.UriSchemeHttps)))
        {
            errors.Add("SENSAY_URL must be an absolute http:// or https:// URL.");
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}

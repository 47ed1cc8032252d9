using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using Orchestrator.Host.Options;

namespace Orchestrator.Host.Hosting;

/// <summary>Authentication scheme and policy names.</summary>
public static class ApiAuth
{
    /// <summary><c>Authorization: Bearer &lt;ORCHESTRATOR_AUTH_TOKEN&gt;</c>; protects <c>/bots</c>.</summary>
    public const string BearerScheme = "Bearer";

    /// <summary>Bearer, or HTTP Basic with the token as password (any user name) so a browser can open the dashboard.</summary>
    public const string DashboardScheme = "DashboardBasic";

    public const string BotsPolicy = "bots";
    public const string DashboardPolicy = "dashboard";
}

/// <summary>Options of <see cref="TokenAuthenticationHandler"/>.</summary>
public sealed class TokenAuthenticationOptions : AuthenticationSchemeOptions
{
    /// <summary>Also accept HTTP Basic with the token as password, and challenge with Basic (the dashboard).</summary>
    public bool AllowBasic { get; set; }
}

/// <summary>Compares the presented token with <c>ORCHESTRATOR_AUTH_TOKEN</c> in constant time.</summary>
public static class TokenComparer
{
    /// <summary>
    /// True when <paramref name="presented"/> equals <paramref name="expected"/>. Both are hashed first, so the
    /// comparison takes the same time whatever the lengths and wherever they differ.
    /// </summary>
    public static bool Matches(string? presented, string expected) =>
        presented is not null
        && CryptographicOperations.FixedTimeEquals(
            SHA256.HashData(Encoding.UTF8.GetBytes(presented)),
            SHA256.HashData(Encoding.UTF8.GetBytes(expected)));
}

/// <summary>
/// Bearer-token authentication against <c>ORCHESTRATOR_AUTH_TOKEN</c>. A failed challenge answers 401 with
/// <c>WWW-Authenticate</c> and a problem details body; the token is never echoed.
/// </summary>
internal sealed class TokenAuthenticationHandler(
    IOptionsMonitor<TokenAuthenticationOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    IOptions<ServiceSettings> settings) : AuthenticationHandler<TokenAuthenticationOptions>(options, loggerFactory, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        string? header = Request.Headers.Authorization;
        if (string.IsNullOrWhiteSpace(header))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        string? presented = null;
        if (header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            presented = header["Bearer ".Length..].Trim();
        }
        else if (Options.AllowBasic && header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            presented = BasicPassword(header["Basic ".Length..].Trim());
        }

        if (!TokenComparer.Matches(presented, settings.Value.AuthToken!))
        {
            return Task.FromResult(AuthenticateResult.Fail("The token is not valid."));
        }

        var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, "operator")], Scheme.Name);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var missing = string.IsNullOrWhiteSpace(Request.Headers.Authorization);
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = Options.AllowBasic
            ? "Basic realm=\"Orchestrator\", charset=\"UTF-8\""
            : missing ? "Bearer" : "Bearer error=\"invalid_token\"";
        var detail = missing
            ? "Missing credentials: send 'Authorization: Bearer <ORCHESTRATOR_AUTH_TOKEN>'."
            : "The credentials are not valid: send 'Authorization: Bearer <ORCHESTRATOR_AUTH_TOKEN>' with the configured token.";
        await TypedResults.Problem(detail, statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized").ExecuteAsync(Context);
    }

    private static string? BasicPassword(string encoded)
    {
        try
        {
            var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
            var colon = decoded.IndexOf(':', StringComparison.Ordinal);
            return colon >= 0 ? decoded[(colon + 1)..] : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}

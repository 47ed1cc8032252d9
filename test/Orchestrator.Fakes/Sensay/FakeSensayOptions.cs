namespace Orchestrator.Fakes.Sensay;

/// <summary>Options of <see cref="FakeSensayApi"/>.</summary>
public sealed class FakeSensayOptions
{
    /// <summary>The API version every request must carry in <c>X-API-VERSION</c>.</summary>
    public const string ApiVersion = "2025-04-01";

    /// <summary>TCP port on 127.0.0.1; 0 (default) picks a free one.</summary>
    public int Port { get; set; }

    /// <summary>When set, requests need <c>X-ORGANIZATION-SECRET</c> equal to it (else 401). Default null: not checked.</summary>
    public string? ApiKey { get; set; }

    /// <summary>
    /// When set, the fake also serves the licence service (<c>GET /api/license/telegram/{uuid}</c>), which needs a
    /// Bearer HS256 JWT signed with this secret, unexpired, for that replica (else 401). Default null: no licence service.
    /// </summary>
    public string? LicenseSecretKey { get; set; }

    /// <summary>Requests without <c>X-API-VERSION: 2025-04-01</c> get 400. Default true.</summary>
    public bool RequireApiVersion { get; set; } = true;

    /// <summary>Clock for record times (default <see cref="TimeProvider.System"/>).</summary>
    public TimeProvider TimeProvider { get; set; } = TimeProvider.System;

    /// <summary>Keep every request, completion and history request for inspection (default true); off for long load runs.</summary>
    public bool RecordRequests { get; set; } = true;

    /// <summary>Write Kestrel warnings to the console (standalone mode). Default false.</summary>
    public bool LogWarningsToConsole { get; set; }
}

using System.Runtime;
using Microsoft.AspNetCore.Http.HttpResults;
using Orchestrator.Abstractions;
using Orchestrator.Host.Hosting;
using Orchestrator.Host.Options;

namespace Orchestrator.Host.Endpoints;

/// <summary>
/// <c>/_diagnostics</c>, mapped only when <c>DIAGNOSTICS_ENDPOINTS</c> is on (Bearer, like <c>/bots</c>): the runtime
/// figures the benchmark reads (managed heap, GC, thread pool) and a reload that answers with its report.
/// </summary>
public static class DiagnosticsApi
{
    public static RouteGroupBuilder MapDiagnosticsApi(this WebApplication app)
    {
        var group = app.MapGroup("/_diagnostics").WithTags("Diagnostics").ExcludeFromDescription();
        // Routes are mapped before the start-time validation runs: read the flag unvalidated (a bad value maps
        // nothing, and the validator then stops the process).
        if (!ServiceSettingsBinder.Bind(app.Configuration).DiagnosticsEndpoints)
        {
            return group;
        }

        group.RequireAuthorization(ApiAuth.BotsPolicy);
        group.MapGet("/runtime", GetRuntime).WithName("GetRuntimeDiagnostics");
        group.MapPost("/reload", ReloadAsync).WithName("ReloadNow");
        return group;
    }

    /// <summary>Runtime figures; <c>?gc=true</c> first runs a full, compacting collection so the heap is the live heap.</summary>
    public static Ok<RuntimeDiagnostics> GetRuntime(bool? gc)
    {
        var live = GC.GetTotalMemory(forceFullCollection: gc == true);
        var info = GC.GetGCMemoryInfo();
        return TypedResults.Ok(new RuntimeDiagnostics(
            live,
            info.HeapSizeBytes,
            info.TotalCommittedBytes,
            Environment.WorkingSet,
            GCSettings.IsServerGC,
            GC.CollectionCount(0),
            GC.CollectionCount(1),
            GC.CollectionCount(2),
            ThreadPool.ThreadCount,
            ThreadPool.PendingWorkItemCount,
            Environment.ProcessorCount,
            Environment.CpuUsage.TotalTime.TotalMilliseconds,
            GC.GetTotalPauseDuration().TotalMilliseconds,
            GC.GetTotalAllocatedBytes()));
    }

    /// <summary>Runs a reload from upstream now and answers its report.</summary>
    public static async Task<Ok<ReloadDiagnostics>> ReloadAsync(IGrainFactory grains, CancellationToken cancellationToken)
    {
        var report = await grains.GetGrain<IOrchestratorGrain>(GrainKeys.Orchestrator).ReloadAsync().WaitAsync(cancellationToken);
        return TypedResults.Ok(new ReloadDiagnostics(
            report.Outcome.ToString(), report.Added, report.Changed, report.Removed, report.Revived, report.Held, report.Duration.TotalMilliseconds, report.Error));
    }
}

/// <summary>
/// The process's runtime figures. The last three count from the process's start (CPU time of all its threads, time
/// paused for collections, bytes allocated), so the difference of two readings is what happened between them.
/// </summary>
public sealed record RuntimeDiagnostics(
    long ManagedHeapBytes,
    long GcHeapSizeBytes,
    long GcCommittedBytes,
    long WorkingSetBytes,
    bool ServerGc,
    int Gen0Collections,
    int Gen1Collections,
    int Gen2Collections,
    int ThreadPoolThreads,
    long ThreadPoolQueue,
    int ProcessorCount,
    double CpuMs,
    double GcPauseMs,
    long AllocatedBytes);

/// <summary>A reload's report.</summary>
public sealed record ReloadDiagnostics(string Outcome, int Added, int Changed, int Removed, int Revived, int Held, double DurationMs, string? Error);

using Gantry.Core.Audit;
using Gantry.Core.Runtime;
using Gantry.Server.Reconciler;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Hosting;

/// <summary>
/// After each pass: instances that belong to no service and environment the reconciler drives (their service or
/// environment left the manifest while the control plane was away) are out of every route; after a drain they are
/// stopped, each set recorded in the audit trail. Never killed on sight.
/// </summary>
public sealed partial class OrphanSweeper(IRuntime runtime, RolloutReconciler reconciler, IAuditStore audit, ReconcilerSignals signals, TimeProvider time, ILogger<OrphanSweeper> logger)
    : AfterPassService(signals, time, logger)
{
    /// <summary>How long requests already in an orphan may take to finish once no route lists it.</summary>
    public static readonly TimeSpan Drain = TimeSpan.FromSeconds(5);

    private readonly Dictionary<InstanceSetId, DateTimeOffset> seen = [];

    protected override TimeSpan Period => TimeSpan.FromSeconds(5);

    protected override async Task RunOnceAsync(CancellationToken ct)
    {
        if (reconciler.Passes == 0)
        {
            return;
        }

        var driven = reconciler.Targets.Select(t => t.State.Target).ToHashSet();
        var orphans = runtime.Observe().Where(i => !driven.Contains(i.SetId.Target)).GroupBy(i => i.SetId).ToList();
        foreach (var gone in seen.Keys.Where(k => !orphans.Exists(o => o.Key == k)).ToList())
        {
            seen.Remove(gone);
        }

        foreach (var set in orphans)
        {
            if (!seen.TryGetValue(set.Key, out var since))
            {
                seen[set.Key] = Now;
                LogOrphans(logger, set.Count(), set.Key.ToString());
                continue;
            }

            if (Now - since < Drain)
            {
                continue;
            }

            await runtime.StopAsync(set.Key, ct);
            seen.Remove(set.Key);
            await audit.RecordAsync(AuditEntries.OrphansStopped(set.Key.Service, set.Key.Environment, set.First().Version, set.Count()), Now, AuditContext.System, ct);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} instance(s) of {Set} belong to no service in the manifest: drained, then stopped")]
    private static partial void LogOrphans(ILogger logger, int count, string set);
}

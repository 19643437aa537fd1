using System.Collections.Concurrent;
using Gantry.Core;
using Gantry.Core.Runtime;
using Gantry.Core.Strategies;
using Gantry.Core.Traffic;
using Gantry.Server.Analysis;
using Microsoft.Extensions.Logging;

namespace Gantry.Server.Reconciler;

/// <summary>
/// The level-triggered loop: for the newest rollout of every service and environment, make the runtime
/// run the sets it wants, observe them, ask the strategy what comes next, commit the new state with its
/// events in one transaction, and give the router the traffic split that follows. Every action is
/// idempotent, so after a crash the next pass simply continues from the last committed state.
/// </summary>
public sealed partial class RolloutReconciler(
    ManifestContext manifestContext,
    IRolloutStore store,
    DataPlane dataPlane,
    RolloutObservers observers,
    ReconcilerSignals signals,
    TimeProvider time,
    ILogger<RolloutReconciler> logger)
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(250);
    private readonly GantryManifest manifest = manifestContext.Manifest;
    private readonly IRuntime runtime = dataPlane.Runtime;
    private readonly ITrafficRouter router = dataPlane.Router;
    private readonly AnalysisRuns analysis = observers.Analysis;
    private readonly Dictionary<TargetId, List<InstanceRecord>> recorded = [];
    private readonly ConcurrentDictionary<TargetId, TrafficState> verified = new();
    private IReadOnlyList<(TargetId Key, TrafficState Traffic, TrafficRoute? Split)> planned = [];
    private ValueList<TrafficRoute> applied = [];
    private volatile IReadOnlyList<Target> targets = [];

    /// <summary>Completed passes; 0 until the first pass has run (the server is not ready before).</summary>
    public long Passes => Interlocked.Read(ref passes);

    private long passes;

    public string? RouterError { get; private set; }

    /// <summary>
    /// Why the store cannot be reached, since when, and what that means, while the passes fail for it; null once a
    /// pass has read and written it again. A pass that fails changes no traffic: the router keeps the last split.
    /// </summary>
    public string? StoreError => storeDown is { } down ? $"{(store as Storage.Sql.SqlStore)?.Describe ?? "the store"}: {down.Reason} since {down.Since.UtcDateTime:HH:mm:ss} UTC; no rollout moves until it is back, the routers keep serving the last split" : null;

    private volatile StoreDown? storeDown;

    private sealed record StoreDown(DateTimeOffset Since, string Reason);

    /// <summary>The targets as of the last pass.</summary>
    public IReadOnlyList<Target> Targets => targets;

    public async Task RunAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await PassAsync(ct);
                storeDown = null;
            }
            catch (Exception) when (ct.IsCancellationRequested)
            {
                // Stopped in the middle of a pass (a cancelled router update, say): the next start continues from the last commit.
                return;
            }
            catch (Exception ex) when (!ct.IsCancellationRequested)
            {
                if (Storage.Sql.StoreFailure.Of(ex) is { } reason)
                {
                    storeDown = new StoreDown(storeDown?.Since ?? time.GetUtcNow(), reason);
                    LogStoreDown(logger, reason);
                }
                else
                {
                    LogPassFailed(logger, ex);
                }
            }

            Interlocked.Increment(ref passes);
            signals.Passed.Pulse();
            try
            {
                await signals.Wake.WaitAsync(Period, time, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Forgets what it knew of the data plane (the routes it applied, the splits it verified, the instances it
    /// recorded) before it starts driving, again: while another replica drove, all of them may have changed.
    /// </summary>
    public void Forget()
    {
        recorded.Clear();
        verified.Clear();
        planned = [];
        applied = [];
    }

    /// <summary>One pass over every target.</summary>
    public async Task PassAsync(CancellationToken ct)
    {
        var latest = await store.LatestPerTargetAsync(ct);
        await VerifyAsync(ct);
        var current = new List<Target>();
        foreach (var stored in latest)
        {
            if (manifest.FindService(stored.Service) is not { } service)
            {
                continue;
            }

            var spec = EffectiveService.For(manifest, service, stored.Environment);
            var gate = signals.LockFor(stored.Target);
            await gate.WaitAsync(ct);
            try
            {
                // Re-read under the lock: a command may have committed since the list was read.
                var state = await store.GetAsync(stored.Id, ct) ?? stored;
                current.Add(new Target(spec, await ReconcileAsync(spec, state, ct)));
            }
            finally
            {
                gate.Release();
            }
        }

        // The default environment first, so it gets the service's listener when several share it.
        var defaultEnvironment = EffectiveService.DefaultEnvironmentOf(manifest);
        current = [.. current.OrderBy(t => t.State.Environment == defaultEnvironment ? 0 : 1).ThenBy(t => t.State.Service, StringComparer.Ordinal)];
        targets = current;
        observers.Checklists.Keep(current.Select(t => t.State));
        observers.Jobs.Keep(current.Select(t => t.State.Job?.Key).OfType<string>().ToHashSet());
        analysis.Keep(current.SelectMany(t => new[] { t.State.Analysis, t.State.Background }).Where(r => r is { Completed: false }).Select(r => r!.Key).ToHashSet());
        await ApplyRoutingAsync(current, ct);
    }

    private async Task<RolloutState> ReconcileAsync(ServiceSpec spec, RolloutState state, CancellationToken ct)
    {
        await EnsureInstancesAsync(spec, state, ct);
        var instances = runtime.Observe().Where(i => i.SetId.BelongsTo(state.Target)).ToList();
        var health = instances.GroupBy(i => i.SetKey, StringComparer.Ordinal).ToDictionary(
            g => g.Key,
            g => new SetHealth(g.Count(i => i.Phase is not InstancePhase.Stopped and not InstancePhase.Failed), g.Count(i => i.Phase == InstancePhase.Ready), g.Select(i => i.LastError).LastOrDefault(e => e is not null), g.Sum(i => i.Restarts),
                g.FirstOrDefault(i => i.Phase == InstancePhase.Failed)?.LastError),
            StringComparer.Ordinal);
        await RecordInstancesAsync(state, instances, ct);
        var target = new Target(spec, state);
        var observed = new Observation(
            time.GetUtcNow(),
            health,
            analysis.Observe(state.Analysis, state, target.Route, target.PreviewRoute),
            analysis.Observe(state.Background, state, target.Route, target.PreviewRoute),
            observers.Checklists.Observe(state),
            verified.GetValueOrDefault(state.Target),
            manifest.FindEnvironment(state.Environment) is { } environment ? Core.Policies.DeployCalendar.HoldingFreeze(environment, time.GetUtcNow()) : null,
            state.AwaitsApproval && state.IsWaiting ? await observers.Approvals.StatusAsync(state, ct) : null,
            state.Job is null ? null : observers.Jobs.Observe(state.Job, state, spec, [.. instances.Where(i => i.SetKey == state.NewKey && i.Phase == InstancePhase.Ready).Select(i => i.Address.ToString())]));
        var decision = RolloutEngine.Next(spec, state, observed);
        if (!decision.Changed(state))
        {
            return state;
        }

        var outcome = await store.SaveAsync(decision.State, state.Revision, decision.Events, ct, fence: signals.Fence());
        if (outcome != CommitOutcome.Committed)
        {
            LogNotCommitted(logger, state.Id, outcome);
            return state;
        }

        signals.Committed.Pulse();
        if (decision.State.Sets != state.Sets)
        {
            // Sets that came or went: make the runtime follow now rather than on the next pass.
            await EnsureInstancesAsync(spec, decision.State, ct);
        }

        return decision.State;
    }

    /// <summary>Keeps the store's instance records in step with what is observed (written only when something changed).</summary>
    private async Task RecordInstancesAsync(RolloutState state, List<InstanceStatus> instances, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var records = instances.Select(i => new InstanceRecord(i.Id, state.Service, state.Environment, i.Version, i.Address, i.ProcessId, i.Phase.ToString(), i.Restarts, i.LastError, now) { SetKey = i.SetKey, Index = i.Index }).ToList();
        var key = state.Target;
        if (recorded.TryGetValue(key, out var last) && last.Select(r => r with { ObservedAt = default }).SequenceEqual(records.Select(r => r with { ObservedAt = default })))
        {
            return;
        }

        await store.SaveInstancesAsync(state.Service, state.Environment, records, ct);
        recorded[key] = records;
    }

    /// <summary>Makes the runtime run exactly the rollout's sets for this service and environment.</summary>
    private async Task EnsureInstancesAsync(ServiceSpec spec, RolloutState state, CancellationToken ct)
    {
        foreach (var set in state.Sets)
        {
            var variables = set.Release.Variables.ToDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal);
            await runtime.EnsureAsync(new InstanceSetSpec(spec, state.Environment, set.Version, set.Replicas, manifestContext.Folder, variables, set.Name) { Secrets = set.Release.Secret.ToHashSet(StringComparer.Ordinal) }, ct);
        }

        var wanted = state.Sets.Select(s => state.Target.Set(s.Key)).ToHashSet();
        foreach (var setId in runtime.Observe().Select(i => i.SetId).Where(id => id.BelongsTo(state.Target) && !wanted.Contains(id)).Distinct().ToList())
        {
            await runtime.StopAsync(setId, ct);
        }
    }

    private async Task ApplyRoutingAsync(IReadOnlyList<Target> current, CancellationToken ct)
    {
        var switches = dataPlane.Maintenance is { } store ? await TrafficSwitches.ReadAsync(store, ct) : TrafficSwitches.None;
        var routes = RoutingPlanner.Plan(current, runtime.Observe(), switches, manifestContext.Folder);
        var byName = routes.ToDictionary(r => r.Name, StringComparer.Ordinal);
        planned = [.. current.Select(t => (t.State.Target, t.State.Traffic, byName.GetValueOrDefault(t.Route)?.Split()))];
        if (routes != applied)
        {
            var result = await router.ApplyAsync(routes, ct);
            if (result.Applied)
            {
                applied = routes;
                if (logger.IsEnabled(LogLevel.Information))
                {
                    var text = string.Join("; ", routes.Select(r => $"{r.Name} " + string.Join(", ", r.Backends.Select(b => $"{b.Name} {b.Weight}% on {b.Instances.Count}"))));
                    LogApplied(logger, text);
                }
            }

            if (result.Error != RouterError)
            {
                RouterError = result.Error;
                if (result.Error is not null)
                {
                    LogRouterError(logger, result.Error);
                }
            }
        }

        if (await VerifyAsync(ct))
        {
            // A split newly in force: the rollouts waiting for it go on now rather than on the next tick.
            signals.Wake.Pulse();
        }
    }

    /// <summary>
    /// Reads back what the router has in force and notes, per target, the traffic whose split it verified (set,
    /// then verify). A target with no route of its own (no listener, or one another environment holds) has
    /// nothing to wait for. True when a target's verified traffic changed.
    /// </summary>
    private async Task<bool> VerifyAsync(CancellationToken ct)
    {
        var inForce = (await router.InForceAsync(ct)).ToDictionary(r => r.Name, r => r.Split(), StringComparer.Ordinal);
        var changed = false;
        foreach (var (key, traffic, split) in planned)
        {
            if ((split is null || (inForce.TryGetValue(split.Name, out var route) && route == split)) && verified.GetValueOrDefault(key) != traffic)
            {
                verified[key] = traffic;
                changed = true;
            }
        }

        return changed;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "reconcile pass failed")]
    private static partial void LogPassFailed(ILogger logger, Exception ex);

    [LoggerMessage(Level = LogLevel.Warning, Message = "reconcile pass failed: the store cannot be reached ({Reason}); traffic stays as it is")]
    private static partial void LogStoreDown(ILogger logger, string reason);

    [LoggerMessage(Level = LogLevel.Debug, Message = "rollout {Id} not committed: {Outcome}")]
    private static partial void LogNotCommitted(ILogger logger, string id, CommitOutcome outcome);

    [LoggerMessage(Level = LogLevel.Information, Message = "routes in the router: {Routes}")]
    private static partial void LogApplied(ILogger logger, string routes);

    [LoggerMessage(Level = LogLevel.Error, Message = "router: {Error}")]
    private static partial void LogRouterError(ILogger logger, string error);
}

/// <summary>The loaded manifest and the folder it was read from (relative paths in it are relative to that folder).</summary>
public sealed record ManifestContext(GantryManifest Manifest, string Folder);

/// <summary>The data plane the reconciler drives: the runtime that runs instances, the router that moves traffic, and the traffic switches (maintenance, pauses) the router answers with.</summary>
public sealed record DataPlane(IRuntime Runtime, ITrafficRouter Router, IMaintenanceStore? Maintenance = null);

/// <summary>What the reconciler observes besides instances: analysis runs, checklist runs and approvals.</summary>
public sealed record RolloutObservers(AnalysisRuns Analysis, Checklists.ChecklistRuns Checklists, IApprovalSource Approvals, Jobs.JobRuns Jobs);

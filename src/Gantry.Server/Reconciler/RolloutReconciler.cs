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
/// Its cost does not grow with the services at rest: a tick reads the store's change mark and the runtime's
/// instances, and visits only the rollouts still moving and those whose state or instances changed since their last
/// visit; the rollouts are read again only when the mark moved, and every target is visited on the resync period.
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

    /// <summary>
    /// Between passes when every target is at rest, its split verified, and the runtime tells each change of an
    /// instance as it happens (<see cref="RuntimeCapabilities.ChangeSignals"/>): a command, a commit or an instance's
    /// change wakes the loop at once; this only bounds how late a commit by another replica is seen.
    /// </summary>
    private static readonly TimeSpan RestPeriod = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How early a resync may come: a timer's clock counts whole milliseconds, so the wait that ends at the resync may
    /// end a few of them before it on the wall clock, and a resync missed by 1 ms would wait a whole rest period more.
    /// </summary>
    private static readonly TimeSpan TimerSlack = TimeSpan.FromMilliseconds(20);
    private int listening;
    private readonly Dictionary<TargetId, Seen> seen = [];
    private IReadOnlyList<RolloutState> latest = [];
    private long? readAtMark;
    private DateTimeOffset resyncAt = DateTimeOffset.MinValue;
    private int lastInstancesPrint;
    private readonly GantryManifest manifest = manifestContext.Manifest;
    private readonly IRuntime runtime = dataPlane.Runtime;
    private readonly ITrafficRouter router = dataPlane.Router;
    private readonly AnalysisRuns analysis = observers.Analysis;
    private readonly Dictionary<TargetId, List<InstanceRecord>> recorded = [];
    private readonly ConcurrentDictionary<TargetId, RoutedSplit> verified = new();
    private IReadOnlyList<(TargetId Key, TrafficState Traffic, TrafficRoute? Route)> planned = [];
    private ValueList<TrafficRoute> applied = [];
    private volatile IReadOnlyList<Target> targets = [];

    /// <summary>Completed passes; 0 until the first pass has run (the server is not ready before).</summary>
    public long Passes => Interlocked.Read(ref passes);

    private long passes;

    /// <summary>Targets visited (observed and decided for) since the start; at rest it grows only with the resync.</summary>
    public long Visits => Interlocked.Read(ref visits);

    private long visits;

    /// <summary>Passes that asked the runtime for its instances: at rest only those after a change the runtime told, a commit or a resync.</summary>
    public long Observations => Interlocked.Read(ref observations);

    private long observations;

    /// <summary>Changes of instances the runtime has told (<see cref="RuntimeCapabilities.ChangeSignals"/>), and as many as the last observation had seen.</summary>
    private long runtimeChanges;
    private long observedChanges = -1;

    /// <summary>Whether the last pass visited nothing and routed nothing.</summary>
    private bool quiet;

    /// <summary>Whether every target was at rest and its split verified when the last pass ended (<see cref="AtRest"/>).</summary>
    private bool rested;

    /// <summary>Times the newest rollouts were read from the store (the change mark moved, or a resync).</summary>
    public long Reads => Interlocked.Read(ref reads);

    private long reads;

    /// <summary>Rollouts read again under their target's lock, because a command here committed since the pass read the change mark.</summary>
    public long Rereads => Interlocked.Read(ref rereads);

    private long rereads;

    /// <summary>Passes that planned the routes again (something visited, moved, or a split not yet verified).</summary>
    public long Routings => Interlocked.Read(ref routings);

    private long routings;

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
        var told = runtime.Capabilities.HasFlag(RuntimeCapabilities.ChangeSignals);
        if (told && Interlocked.Exchange(ref listening, 1) == 0)
        {
            // Once, however often the loop is started again (a replica that leads again).
            runtime.WhenChanged(() =>
            {
                _ = Interlocked.Increment(ref runtimeChanges);
                signals.Wake.Pulse();
            });
        }

        while (!ct.IsCancellationRequested)
        {
            var acted = true;
            var armed = signals.Wake.Armed;
            try
            {
                acted = await PassAsync(ct);
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
            if (acted)
            {
                // Nothing visited, nothing routed: those who look after a pass have nothing new to see.
                signals.Passed.Pulse();
            }

            try
            {
                await Signal.WaitAsync(armed, told && rested ? RestPeriod : Period, time, ct);
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
        seen.Clear();
        (quiet, rested) = (false, false);
        readAtMark = null;
        resyncAt = DateTimeOffset.MinValue;
        recorded.Clear();
        verified.Clear();
        planned = [];
        applied = [];
    }

    /// <summary>
    /// One pass: every target on a resync, else those still moving or changed since their last visit; then the routes,
    /// if anything they are made of may have changed. True when it visited a target or touched the router.
    /// </summary>
    public async Task<bool> PassAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        var resync = now + TimerSlack >= resyncAt;
        var commits = signals.LocalCommits; // before the mark: a command's commit after it is seen under the target's lock
        var mark = await store.ChangeMarkAsync(ct);
        var moved = resync || mark != readAtMark;
        if (mark != readAtMark)
        {
            // Something was committed, here or by another replica: those who follow commits read on.
            signals.Committed.Pulse();
        }

        if (moved)
        {
            latest = await store.LatestPerTargetAsync(ct);
            readAtMark = mark;
            resyncAt = resync ? now + signals.Resync : resyncAt;
            Interlocked.Increment(ref reads);
        }

        // Nothing the last pass saw can have changed: no commit, no resync, no instance's change told by the runtime,
        // no stop ended, and it ended quiet with every target at rest and its split verified. Neither the router nor
        // the runtime is asked.
        var changes = Interlocked.Read(ref runtimeChanges);
        if (quiet && rested && !moved && changes == observedChanges && Volatile.Read(ref listening) == 1 && revisit.IsEmpty)
        {
            return false;
        }

        (quiet, rested) = (false, false);
        if (resync || Unverified)
        {
            await VerifyAsync(ct);
        }

        observedChanges = changes; // read before the runtime is: a change told during the observation is seen next pass
        Interlocked.Increment(ref observations);
        var prints = InstancePrints(runtime.Observe());
        var before = targets.ToDictionary(t => t.State.Target);
        var current = new List<Target>();
        var visited = false;
        foreach (var stored in latest)
        {
            var print = prints.GetValueOrDefault(stored.Target);
            if (!resync && !revisit.TryRemove(stored.Target, out _) && stored.IsAtRest() && before.TryGetValue(stored.Target, out var kept) && kept.State.Id == stored.Id && kept.State.Revision == stored.Revision
                && seen.GetValueOrDefault(stored.Target) == new Seen(stored.Id, stored.Revision, print))
            {
                current.Add(kept);
                continue;
            }

            if (manifest.FindService(stored.Service) is not { } service)
            {
                continue;
            }

            var spec = EffectiveService.For(manifest, service, stored.Environment);
            var gate = signals.LockFor(stored.Target);
            await gate.WaitAsync(ct);
            try
            {
                // What was read is as of the mark: read again under the lock only if a command here committed since (it commits
                // under this lock). A commit by another replica since the mark fails this visit's own commit on its revision,
                // and the next pass, finding the mark moved, reads it.
                var state = signals.LocalCommits == commits ? stored : await ReadAgainAsync(stored, ct);
                var result = await ReconcileAsync(spec, state, ct);
                seen[stored.Target] = new Seen(result.Id, result.Revision, print);
                current.Add(new Target(spec, result));
                visited = true;
                Interlocked.Increment(ref visits);
            }
            finally
            {
                gate.Release();
            }
        }

        var instancesPrint = prints.Aggregate(0, (h, p) => unchecked(h + HashCode.Combine(p.Key, p.Value)));
        var routing = resync || moved || visited || instancesPrint != lastInstancesPrint || Unverified;
        lastInstancesPrint = instancesPrint;
        if (!routing)
        {
            (quiet, rested) = (true, AtRest);
            return false;
        }

        // The default environment first, so it gets the service's listener when several share it.
        var defaultEnvironment = EffectiveService.DefaultEnvironmentOf(manifest);
        current = [.. current.OrderBy(t => t.State.Environment == defaultEnvironment ? 0 : 1).ThenBy(t => t.State.Service, StringComparer.Ordinal)];
        targets = current;
        observers.Checklists.Keep(current.Select(t => t.State));
        observers.Jobs.Keep(current.Select(t => t.State.Job?.Key).OfType<string>().ToHashSet());
        analysis.Keep(current.SelectMany(t => new[] { t.State.Analysis, t.State.Background }).Where(r => r is { Completed: false }).Select(r => r!.Key).ToHashSet());
        Interlocked.Increment(ref routings);
        await ApplyRoutingAsync(current, ct);
        rested = AtRest;
        return true;
    }

    private async Task<RolloutState> ReadAgainAsync(RolloutState stored, CancellationToken ct)
    {
        Interlocked.Increment(ref rereads);
        return await store.GetAsync(stored.Id, ct) ?? stored;
    }

    /// <summary>What a target's last visit saw: its newest rollout at a revision, and its instances (<see cref="InstancePrints"/>).</summary>
    private sealed record Seen(string Id, long Revision, int Instances);

    /// <summary>Per target, a fingerprint of its instances (which, where, in what phase, how often restarted, why they failed).</summary>
    private static Dictionary<TargetId, int> InstancePrints(IReadOnlyList<InstanceStatus> instances)
    {
        var prints = new Dictionary<TargetId, int>();
        foreach (var i in instances)
        {
            var target = i.SetId.Target;
            prints[target] = HashCode.Combine(prints.GetValueOrDefault(target), i.Id, i.Phase, i.Restarts, i.LastError, i.ProcessId, i.Address);
        }

        return prints;
    }

    /// <summary>Whether nothing moves: every target at rest and its split verified in force.</summary>
    private bool AtRest => !Unverified && targets.All(t => t.State.IsAtRest());

    /// <summary>Whether a planned split, or an instance planned to serve, is not yet verified in force (the router is read back until it is).</summary>
    private bool Unverified => planned.Any(p => verified.GetValueOrDefault(p.Key) is not { } v || v.Traffic != p.Traffic || (p.Route is { } route && !RoutingPlanner.Carries(v.Route, route)));

    private async Task<RolloutState> ReconcileAsync(ServiceSpec spec, RolloutState state, CancellationToken ct)
    {
        await EnsureInstancesAsync(spec, state, ct);
        var instances = runtime.Observe(state.Target).ToList();
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
            RoutedNow(state, instances),
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

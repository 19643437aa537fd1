using System.Globalization;
using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;

namespace Gantry.Core.Strategies;

/// <summary>
/// The rollout state machine, as pure functions: given a rollout's state and what was observed, the next
/// state and what happened; given a command, the state it leads to or why it is refused. No I/O; time
/// comes in with the observation. The reconciler makes the world match <see cref="RolloutState.Sets"/>
/// and <see cref="RolloutState.Traffic"/>.
/// </summary>
public static partial class RolloutEngine
{
    /// <summary>Restarts of the new release's instances (crashes, liveness failing its threshold in a row) that fail the rollout.</summary>
    public const int HealthFailureLimit = 3;

    /// <summary>How long an aborted set keeps running when the strategy does not say.</summary>
    public static readonly TimeSpan DefaultAbortScaleDownDelay = TimeSpan.FromSeconds(30);

    /// <summary>
    /// A new rollout of <paramref name="release"/>, starting from the sets the previous rollout of the
    /// service left running (<paramref name="inherited"/>). With nothing stable yet, the release starts directly.
    /// </summary>
    public static RolloutState Create(
        string id, ServiceSpec service, string environment, Release release, RolloutKind kind,
        IEnumerable<InstanceSet> inherited, DateTimeOffset now, string? createdBy = null, bool emergency = false, bool checklist = false, bool approval = false, string? emergencyReason = null, GradualRollback? gradual = null)
    {
        // A retired set whose time is up is kept too: its instances run until a pass sees the split without it in force
        // and stops it (RetireExpired). Dropped here, its key would look free and a release of the same version with
        // other variables would be handed its running instances.
        var sets = inherited.Where(s => s.Role is SetRole.Stable or SetRole.Retired).ToList();
        var stable = sets.FirstOrDefault(s => s.Role == SetRole.Stable);
        var strategy = kind == RolloutKind.Rollback ? StrategyKind.Rollback
            : stable is null ? StrategyKind.Initial
            : service.Strategy switch
            {
                CanaryStrategy => StrategyKind.Canary,
                BlueGreenStrategy => StrategyKind.BlueGreen,
                _ => StrategyKind.Rolling,
            };
        var state = new RolloutState(
            id, service.Name, environment, kind, strategy, release, stable?.Version,
            RolloutPhase.Pending, 0, "created", [.. sets], TrafficState.AllStable, null, [], 1,
            now, now, now, null, null, 0, emergency, createdBy, EmergencyReason: emergency ? emergencyReason : null,
            ReleaseKey: KeyFor(release, sets), PreviousKey: stable?.Key, Gradual: kind == RolloutKind.Rollback ? gradual : null);
        ValueList<WaitReason> gates = [.. new[] { (checklist, WaitReason.AwaitingChecklist), (approval, WaitReason.AwaitingApproval) }.Where(g => g.Item1).Select(g => g.Item2)];
        return checklist ? state with { Waits = gates, ChecklistGated = true, Message = $"waiting for the pre-deployment checklist of {environment}" }
            : approval ? state with { Waits = gates, Phase = RolloutPhase.AwaitingApproval, Message = $"waiting for approval to deploy to {environment}" }
            : Begin(service, state, now);
    }

    /// <summary>
    /// The key of the new release's set. A retained set of exactly this configuration is taken over; beside a set
    /// of the same version with other variables (the stable one, say), the set gets a configuration key, so that
    /// aborting or rejecting the rollout never touches the other set.
    /// </summary>
    private static string? KeyFor(Release release, IReadOnlyList<InstanceSet> sets)
    {
        if (sets.FirstOrDefault(s => s.Role is SetRole.Retired or SetRole.Canary && s.Release.SameConfiguration(release)) is { } same)
        {
            return same.Key == release.Version ? null : same.Key;
        }

        return sets.Any(s => s.Version == release.Version) ? release.ConfigurationKey : null;
    }

    /// <summary>Starts the rollout: its preDeploy jobs first when it has any, else the new release's set in place.</summary>
    private static RolloutState Begin(ServiceSpec service, RolloutState state, DateTimeOffset now) =>
        NeedsPreDeploy(service, state) && !state.Ran(JobHook.PreDeploy)
            ? state with
            {
                Phase = RolloutPhase.Progressing, Step = 0, Stage = null, Traffic = TrafficState.AllStable, Analysis = null, Background = null, StepUntil = null, WatchUntil = null, Job = null,
                Message = $"before {state.Release.Version} starts: running its preDeploy jobs", LastProgressAt = now, UpdatedAt = now,
            }
            : Place(service, state, now);

    /// <summary>Puts the new release's set in place for the strategy's first step.</summary>
    private static RolloutState Place(ServiceSpec service, RolloutState state, DateTimeOffset now)
    {
        var n = service.Replicas;
        // A set of the release still running (aborted, retained) is taken over, with this release's variables.
        var others = state.Sets.Where(s => s.Key != state.NewKey).ToList();
        var name = state.NewKey == state.Release.Version ? null : state.NewKey;
        var stable = others.FirstOrDefault(s => s.Role == SetRole.Stable);
        var release = state.Release;

        InstanceSet candidate;
        var traffic = TrafficState.AllStable;
        switch (state.Strategy)
        {
            case StrategyKind.Initial:
                candidate = new InstanceSet(release, SetRole.Stable, n, n, Name: name);
                break;
            case StrategyKind.Canary:
                candidate = new InstanceSet(release, SetRole.Canary, 1, 1, Name: name);
                break;
            case StrategyKind.BlueGreen:
                candidate = new InstanceSet(release, SetRole.Canary, n, n, Name: name);
                traffic = traffic with { Preview = true };
                break;
            case StrategyKind.Rolling:
                candidate = new InstanceSet(release, SetRole.Canary, 0, 0, Name: name);
                traffic = traffic with { Proportional = true };
                if (stable is not null)
                {
                    // A rolling update replaces the instances the service is meant to have.
                    others[others.IndexOf(stable)] = stable with { Replicas = n, Routed = n };
                }

                break;
            default:
                // Rollback: the earlier release comes back at full size (at once, when it still runs).
                candidate = new InstanceSet(release, SetRole.Canary, n, n, Name: name);
                break;
        }

        return state with
        {
            Phase = RolloutPhase.Progressing,
            Step = 0,
            Stage = state.Strategy == StrategyKind.BlueGreen ? BlueGreenStage.Preview : null,
            Sets = [.. others, candidate],
            Traffic = traffic,
            Analysis = null,
            Background = null,
            StepUntil = null,
            WatchUntil = null,
            Job = null,
            Message = Describe(state),
            LastProgressAt = now,
            UpdatedAt = now,
        };
    }

    private static string Describe(StrategyKind strategy, string version, string? previous) => strategy switch
    {
        StrategyKind.Initial => $"first release {version}: starting it directly",
        StrategyKind.Canary => $"canary of {version} beside stable {previous}",
        StrategyKind.BlueGreen => $"blue-green: starting {version} beside active {previous}",
        StrategyKind.Rolling => $"rolling update from {previous} to {version}",
        _ => $"rolling back from {previous} to {version}",
    };

    private static string Describe(RolloutState state) =>
        state.Gradual is { } plan ? $"{Describe(state.Strategy, state.Release.Version, state.PreviousVersion)} in steps ({plan})" : Describe(state.Strategy, state.Release.Version, state.PreviousVersion);

    /// <summary>The next state of a rollout given what was observed.</summary>
    public static Decision Next(ServiceSpec service, RolloutState state, Observation observed)
    {
        var c = new Changes(state, observed.Now, service.Drain);
        RetireExpired(c, observed);
        if (!c.State.Phase.IsTerminal() && !c.State.IsWaiting)
        {
            // A freeze with `running: hold` stops a running rollout where it is until the freeze ends.
            if (observed.FreezeHold is { } freeze && !c.State.IsHeld)
            {
                c.State = c.State with { Waits = c.State.Waits.With(WaitReason.HeldByFreeze), Phase = RolloutPhase.Paused, Message = $"held where it is by {freeze}: it goes on when the freeze ends" };
                c.Event(RolloutEventType.Paused, c.State.Message);
                return c.Decide();
            }

            if (observed.FreezeHold is null && c.State.HeldByFreeze)
            {
                c.State = c.State with { Waits = c.State.Waits.Without(WaitReason.HeldByFreeze), Phase = RolloutPhase.Progressing, LastProgressAt = observed.Now, Message = "the freeze ended: going on" };
                c.Event(RolloutEventType.Resumed, c.State.Message);
            }
        }

        if (c.State.Phase.IsTerminal())
        {
            AfterEnd(c, service, observed);
        }

        if (c.State.IsWaiting)
        {
            if (!Start(c, service, observed))
            {
                return c.Decide();
            }
        }

        if (FinishOnceRouted(c, service, observed))
        {
            return c.Decide();
        }

        if (!c.State.Phase.IsTerminal() && !c.State.IsHeld)
        {
            var before = c.State;
            if (c.State.Phase is RolloutPhase.Progressing or RolloutPhase.Promoting && c.State.Job is null && !c.State.InWatch
                && observed.Now - c.State.LastProgressAt > service.ProgressDeadline)
            {
                var candidate = c.State.SetOf(c.State.NewKey);
                var health = candidate is null ? SetHealth.None : observed.Of(candidate.Key);
                var why = string.Create(CultureInfo.InvariantCulture,
                    $"no progress for {Manifest.Values.DurationSyntax.Format(service.ProgressDeadline)} (progress deadline): {c.State.Release.Version} has {health.Ready}/{candidate?.Replicas ?? 0} instances ready");
                Stop(c, service, RolloutPhase.Failed, health.LastError is null ? why : $"{why}; last error: {health.LastError}");
            }
            else if (c.State.SetOf(c.State.NewKey) is { } created && observed.Of(created.Key).Unstartable is { } cannot)
            {
                // Nothing will change by waiting (a missing image): fail now, not at the progress deadline.
                Stop(c, service, RolloutPhase.Failed, $"{created.Version} cannot start: {cannot}");
            }
            else if (c.State.Strategy != StrategyKind.Initial
                && c.State.SetOf(c.State.NewKey) is { } fresh && observed.Of(fresh.Key) is { Restarts: >= HealthFailureLimit } sick)
            {
                var why = string.Create(CultureInfo.InvariantCulture,
                    $"{fresh.Version} failed its health checks: its instances were restarted {sick.Restarts} times{(sick.LastError is null ? string.Empty : $" (last: {sick.LastError})")}");
                if (c.State.InWatch)
                {
                    WatchFailed(c, service, observed, why);
                }
                else
                {
                    Stop(c, service, RolloutPhase.Aborted, why);
                }
            }
            else if (c.State.InWatch)
            {
                NextWatch(c, service, observed);
            }
            else if (PreDeploy(c, service, observed) && !c.State.Phase.IsTerminal() && PreTraffic(c, service, observed) && !c.State.Phase.IsTerminal())
            {
                switch (c.State.Strategy)
                {
                    case StrategyKind.Canary:
                        NextCanary(c, service, observed);
                        break;
                    case StrategyKind.BlueGreen:
                        NextBlueGreen(c, service, observed);
                        break;
                    case StrategyKind.Rolling:
                        NextRolling(c, service, observed);
                        break;
                    case StrategyKind.Rollback when c.State.Gradual is { } plan:
                        NextGradual(c, service, plan, observed);
                        break;
                    default:
                        NextDirect(c, service, observed);
                        break;
                }
            }

            if (!c.State.Phase.IsTerminal() && Progressed(before, c.State))
            {
                c.State = c.State with { LastProgressAt = observed.Now };
            }
        }

        return c.Decide();
    }

    private static bool Progressed(RolloutState a, RolloutState b) =>
        a.Step != b.Step || a.Sets != b.Sets || a.Traffic != b.Traffic || a.Phase != b.Phase;

    /// <summary>Stops sets whose time is up (once the split without them is verified in force), and takes a rolling update's aborted half out once the stable half is back.</summary>
    private static void RetireExpired(Changes c, Observation observed)
    {
        var sets = c.State.Sets.ToList();
        var stable = sets.FirstOrDefault(s => s.Role == SetRole.Stable);
        foreach (var set in sets.ToList())
        {
            if (set.Role != SetRole.Retired)
            {
                continue;
            }

            if (set.RemoveAt is { } at && at <= observed.Now && observed.InForce(c.State.Traffic))
            {
                // Only once every router has the split without it: a router still sending it requests would get errors.
                sets.Remove(set);
                c.Event(RolloutEventType.ScaledDown, $"stopped the instances of {set.Key}");
            }
            else if (set.RemoveAt is null && set.Routed > 0 && (stable is null || observed.ReadyOf(stable) >= stable.Replicas))
            {
                sets[sets.IndexOf(set)] = set with { Routed = 0, RemoveAt = observed.Now + c.Drain };
                c.Event(RolloutEventType.TrafficShifted, $"{set.Key} out of traffic: stable {stable?.Version} is fully ready");
            }
        }

        c.State = c.State with { Sets = [.. sets] };
    }

    /// <summary>The first release, and a rollback: the new set at full size; once all are ready, it takes all traffic.</summary>
    private static void NextDirect(Changes c, ServiceSpec service, Observation observed)
    {
        if (!AllReady(c, observed, out var set, out var ready))
        {
            return;
        }

        if (set.Role == SetRole.Stable)
        {
            // Succeeded once the router routes to them too: nothing served before, so a client told the release is
            // running (a script after `deploy --wait`) would otherwise meet a listener with no instance behind it.
            if (!observed.InForce(c.State.Traffic))
            {
                c.Waiting($"{set.Version}: {ready}/{set.Replicas} instances ready, waiting for the router to route to them");
                return;
            }

            Succeed(c, service, $"{set.Version} is running: {ready}/{set.Replicas} instances ready");
            return;
        }

        SwitchTo(c, set, c.Drain);
        Succeed(c, service, $"rolled back to {set.Version}: all traffic on it");
    }

    /// <summary>Whether every instance of the new release's set is ready; if not, the rollout says it waits for them.</summary>
    private static bool AllReady(Changes c, Observation observed, out InstanceSet set, out int ready)
    {
        set = c.State.SetOf(c.State.NewKey)!;
        ready = observed.ReadyOf(set);
        if (ready < set.Replicas)
        {
            c.Waiting($"waiting for {set.Version}: {ready}/{set.Replicas} instances ready");
            return false;
        }

        return true;
    }

    /// <summary>
    /// A rollout waiting to start: a rejection ends it; nothing moves before every required item of the
    /// environment's checklist has passed and the approvals it requires are given. True once it has begun.
    /// </summary>
    private static bool Start(Changes c, ServiceSpec service, Observation observed)
    {
        if (c.State.AwaitsApproval && observed.Approval is { State: Approvals.ApprovalState.Rejected } rejected)
        {
            Stop(c, service, RolloutPhase.Aborted, $"{rejected.Message}; the rollout does not start");
            return false;
        }

        if (c.State.AwaitsChecklist && !observed.ChecklistPassed)
        {
            return false;
        }

        if (c.State.AwaitsApproval)
        {
            if (observed.Approval is not { State: Approvals.ApprovalState.Approved } approved)
            {
                var waiting = observed.Approval?.Message ?? $"waiting for approval to deploy to {c.State.Environment}";
                if (c.State.Phase != RolloutPhase.AwaitingApproval)
                {
                    c.State = c.State with { Phase = RolloutPhase.AwaitingApproval, Message = waiting };
                    c.Event(RolloutEventType.AwaitingApproval, $"the pre-deployment checklist passed; {waiting}");
                }

                c.Waiting(waiting);

                return false;
            }

            c.State = c.State with { Waits = c.State.Waits.Without(WaitReason.AwaitingApproval) };
            c.Event(RolloutEventType.Approved, approved.Message);
        }

        var checklist = c.State.AwaitsChecklist;
        c.State = Begin(service, c.State with { Waits = c.State.Waits.Without(WaitReason.AwaitingChecklist) }, observed.Now);
        if (checklist)
        {
            c.Event(RolloutEventType.ChecklistPassed, $"every required item of the pre-deployment checklist passed: {c.State.Message}");
        }

        return true;
    }

}

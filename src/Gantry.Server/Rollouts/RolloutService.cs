using System.Globalization;
using System.Text.RegularExpressions;
using Gantry.Core.Analysis;
using Gantry.Core.Audit;
using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;
using Gantry.Core.Runtime;
using Gantry.Core.Strategies;
using Gantry.Server.Analysis;
using Gantry.Server.Reconciler;

namespace Gantry.Server.Rollouts;

/// <summary>A deploy as asked: which service, which version, where, with which variables, by whom.</summary>
public sealed record DeployRequest(
    string Service,
    string Version,
    string? Environment = null,
    IReadOnlyDictionary<string, string>? Set = null,
    string? CommitSha = null,
    DateTimeOffset? CommitTime = null,
    bool Queue = false,
    bool Emergency = false,
    string? Reason = null,
    IReadOnlyList<string>? Secret = null);

/// <summary>A freeze declared by hand: why, and for how long (a duration such as 2h; until lifted when absent).</summary>
public sealed record FreezeRequest(string? Reason, string? For = null);

/// <summary>A command to a rollout: a reason and, for promote, whether to skip every remaining step.</summary>
public sealed record CommandRequest(string? Reason = null, bool Full = false);

/// <summary>A rollback: where, and to which version (the previous release when not given).</summary>
public sealed record RollbackRequest(string? Environment = null, string? To = null, string? Reason = null);

/// <summary>An expected failure, as the API says it (RFC 7807): status, a short title, the detail.</summary>
public sealed record Problem(int Status, string Title, string Detail, string? Code = null);

/// <summary>Either a value or a problem.</summary>
public sealed record Result<T>(T? Value, Problem? Problem)
{
    public static implicit operator Result<T>(Problem problem) => new(default, problem);

    public static implicit operator Result<T>(T value) => new(value, null);
}

public sealed record StepView(int Index, string Text, string Status);

public sealed record TrafficView(string Version, string Role, int Weight, int Ready, int Replicas);

/// <summary>A rollout with what goes with it: its steps, instances, traffic split and analysis.</summary>
public sealed record RolloutView(
    RolloutState Rollout,
    IReadOnlyList<StepView> Steps,
    IReadOnlyList<TrafficView> Traffic,
    IReadOnlyList<InstanceStatus> Instances,
    AnalysisRunRecord? Analysis,
    AnalysisRunRecord? Background = null);

/// <summary>A rollout's approval as shown: the rule's verdict, every decision, and whether the caller may decide (and why not).</summary>
public sealed record ApprovalView(
    string RolloutId, string Service, string Environment, string Version, string? RequestedBy, RolloutPhase Phase, bool Waiting,
    Core.Approvals.ApprovalStatus? Status, IReadOnlyList<Core.Approvals.ApprovalRecord> Decisions, bool CanDecide, string? CannotDecide);

/// <summary>
/// What people ask of rollouts (deploy, promote, abort, pause, resume, retry, rollback), checked and
/// committed with their events; the reconciler is woken to act at once.
/// </summary>
public sealed partial class RolloutService(GantryManifest manifest, IRolloutStore store, RolloutReconciler reconciler, IRuntime runtime, AnalysisRuns analysis, Gates.GateService gates, Checklists.ChecklistRuns checklists, Core.Checklists.IChecklistStore checklistStore, Core.Policies.IFreezeStore freezes, Core.Approvals.IApprovalStore approvals, TimeProvider time)
{
    public Checklists.ChecklistRuns Checklists => checklists;

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex VariableName();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._+\-]{0,127}$")]
    private static partial Regex VersionSyntax();

    public GantryManifest Manifest => manifest;

    public static bool IsValidVersion(string? version) => !string.IsNullOrWhiteSpace(version) && VersionSyntax().IsMatch(version);

    public async Task<Result<RolloutState>> DeployAsync(DeployRequest request, AuditContext who, CancellationToken ct)
    {
        if (CheckRequest(request, out var service, out var environment) is { } problem)
        {
            return problem;
        }

        if (await gates.CheckAsync(environment, service.Name, request.Version, ct) is { } refused)
        {
            return refused;
        }

        if (request.Emergency && string.IsNullOrWhiteSpace(request.Reason))
        {
            return Bad("an emergency deploy needs a reason (--reason): it is recorded with the rollout and in the audit trail");
        }

        if (request.Emergency && request.Queue)
        {
            return Bad("an emergency deploy does not wait in the queue: abort the active rollout first");
        }

        // An emergency deploy goes past windows, freezes and soak; never past the gate, approvals or the audit.
        if (!request.Emergency && await CalendarAsync(environment, ct) is { } closed)
        {
            return closed;
        }

        if (await PromotionAsync(environment, service.Name, request.Version, ct) is { Allowed: false } notPromoted
            && !(request.Emergency && notPromoted.AllowedAt is not null))
        {
            return new Problem(409, "Not promoted", notPromoted.Message, "promotion");
        }

        if (UnknownSecrets(request) is { } unknown)
        {
            return unknown;
        }

        var release = ReleaseOf(request);
        return await CreateAsync(service, environment, release, RolloutKind.Deploy, who, request.Emergency ? request.Reason!.Trim() : null, null, null, ct, request.Emergency);
    }

    public async Task<Result<RolloutState>> RollbackAsync(string serviceName, RollbackRequest request, AuditContext who, CancellationToken ct)
    {
        if (TooLong(request.Reason) is { } tooLong)
        {
            return tooLong;
        }

        if (Resolve(serviceName, request.Environment, out var service, out var environment) is { } problem)
        {
            return problem;
        }

        var history = await store.ListAsync(new RolloutQuery(service.Name, environment, Limit: 500), ct);
        var latest = history.Count > 0 ? history[0] : null;
        if (latest is null || latest.StableVersion is null)
        {
            return new Problem(409, "Nothing to roll back", $"{service.Name} has no release running in {environment}");
        }

        if (!latest.Phase.IsTerminal())
        {
            return new Problem(409, "Rollout in progress", $"{service.Name} in {environment} is being rolled out ({latest.Id}, {latest.Phase}): abort it instead of rolling back");
        }

        // A rollback goes back only to a release that ran as stable here, with the variables it ran with here;
        // anything else is a deploy, with its gate, approvals, windows and soak.
        var current = latest.SetOf(SetRole.Stable)!.Release;
        var wereStable = history.Where(r => r.Phase is RolloutPhase.Succeeded or RolloutPhase.RolledBack).Select(r => r.Release).ToList();
        Release? target;
        if (request.To is { } to)
        {
            target = wereStable.FirstOrDefault(r => r.Version == to);
            if (target is null)
            {
                return new Problem(409, "Not a rollback target", $"{service.Name} {to} never ran as the stable release in {environment}: a rollback only goes back to a release that did. "
                    + $"To run {to} there, deploy it (gantry deploy {service.Name} -v {to} -e {environment}): it then passes the gate, approvals, windows and soak", "rollback-target");
            }
        }
        else
        {
            target = wereStable.FirstOrDefault(r => !r.SameConfiguration(current));
            if (target is null)
            {
                return new Problem(409, "Nothing to roll back to", $"{service.Name} in {environment} has had only one release ({current.Version})");
            }
        }

        if (target.SameConfiguration(current))
        {
            return new Problem(409, "Already running", $"{target.Version} is already the stable release of {service.Name} in {environment}");
        }

        // The rollout that brought the current release in is the one rolled back.
        var replaced = history.FirstOrDefault(r => r.Phase == RolloutPhase.Succeeded && r.Release.SameConfiguration(current));
        return await CreateAsync(service, environment, target, RolloutKind.Rollback, who, request.Reason, replaced, null, ct);
    }

    private async Task<Result<RolloutState>> CreateAsync(ServiceSpec service, string environment, Release release, RolloutKind kind, AuditContext who, string? reason, RolloutState? replaced, long? fromQueue, CancellationToken ct, bool emergency = false)
    {
        var by = who.Actor;
        var spec = EffectiveService.For(manifest, service, environment);
        var gate = reconciler.LockFor(service.Name, environment);
        await gate.WaitAsync(ct);
        try
        {
            var latest = First(await store.ListAsync(new RolloutQuery(service.Name, environment, Limit: 1), ct));
            if (latest is { Phase: var phase } && !phase.IsTerminal())
            {
                return Busy(latest);
            }

            // Secret values are not compared: whether a guessed value is the one running is never revealed.
            if (kind == RolloutKind.Deploy && latest?.SetOf(SetRole.Stable) is { } stable && stable.Release.SameConfiguration(release))
            {
                return new Problem(409, "Already running", $"{release.Version} is already the stable release of {service.Name} in {environment} with these variables"
                    + (release.Secret.IsEmpty ? string.Empty : " (secret values are not compared: to change only a secret's value, deploy it with a new version or another variable)"), "already-running");
            }

            if (await SharedFrontDoorAsync(spec, environment, ct) is { } shared)
            {
                return shared;
            }

            var id = await store.NextIdAsync(service.Name, environment, ct);
            var now = time.GetUtcNow();
            // A deploy into an environment with a checklist waits for it; a rollback (getting back to safety) does not.
            // So do its approvals (an emergency deploy too: it goes past the calendar, not past people).
            var waits = kind == RolloutKind.Deploy && !checklists.ItemsFor(environment).IsEmpty;
            var approval = kind == RolloutKind.Deploy && manifest.FindEnvironment(environment)?.Approvals is not null;
            var state = RolloutEngine.Create(id, spec, environment, release, kind, latest?.Sets ?? [], now, by, emergency, waits, approval, reason);
            var what = kind == RolloutKind.Rollback
                ? $"rollback of {service.Name} in {environment} to {release.Version} by {by}{(reason is null ? string.Empty : ": " + reason)}"
                : emergency
                    ? $"EMERGENCY deploy of {service.Name} {release.Version} to {environment} by {by}: {reason} (past deployment windows, freezes and soak)"
                    : $"deploy of {service.Name} {release.Version} to {environment} by {by}";
            var queuedNote = fromQueue is null ? string.Empty : ", from the queue";
            // A rollback marks the rollout it undoes in the same transaction: a change failure is never lost.
            var undone = $"rolled back to {release.Version} by {by} ({id})";
            var marks = replaced is null ? null : new RolloutChange(
                replaced with { Phase = RolloutPhase.RolledBack, Message = undone, Revision = replaced.Revision + 1, UpdatedAt = now }, replaced.Revision, [new RolloutEvent(RolloutEventType.RolledBack, undone)]);
            var outcome = await store.CreateAsync(state, [new RolloutEvent(RolloutEventType.Created, $"{what} ({state.Message}{queuedNote})")], ct, fromQueue, who with { Reason = reason }, marks);
            if (outcome == CommitOutcome.Conflict)
            {
                return new Problem(409, "Already started", "the queued deploy was started meanwhile", BusyCode);
            }

            if (outcome == CommitOutcome.Busy)
            {
                return new Problem(409, "Rollout in progress", $"another rollout of {service.Name} in {environment} started meanwhile", BusyCode);
            }

            await reconciler.CommittedAsync(ct);
            reconciler.Committed.Pulse();
            reconciler.Wake.Pulse();
            return state;
        }
        finally
        {
            gate.Release();
        }
    }

    private static Problem Busy(RolloutState active) =>
        new(409, "Rollout in progress", $"{active.Service} in {active.Environment} is busy with rollout {active.Id} of {active.Release.Version} ({active.Phase}): wait for it, abort it, or deploy with --queue", BusyCode);

    public const string BusyCode = "busy";

    public async Task<Result<RolloutState>> CommandAsync(string rolloutId, CommandKind kind, CommandRequest request, AuditContext who, CancellationToken ct)
    {
        if (TooLong(request.Reason) is { } tooLong)
        {
            return tooLong;
        }

        var by = who.Actor;
        var found = await store.GetAsync(rolloutId, ct);
        if (found is null)
        {
            return new Problem(404, "Unknown rollout", $"there is no rollout '{rolloutId}'");
        }

        if (manifest.FindService(found.Service) is not { } service)
        {
            return new Problem(409, "Unknown service", $"service '{found.Service}' is no longer in the manifest");
        }

        var spec = EffectiveService.For(manifest, service, found.Environment);
        var gate = reconciler.LockFor(found.Service, found.Environment);
        await gate.WaitAsync(ct);
        try
        {
            var state = (await store.GetAsync(rolloutId, ct))!;
            if (kind == CommandKind.Retry)
            {
                var latest = (await store.ListAsync(new RolloutQuery(state.Service, state.Environment, Limit: 1), ct))[0];
                if (latest.Id != state.Id)
                {
                    return new Problem(409, "Command refused", $"rollout {state.Id} is not the newest of {state.Service} in {state.Environment} ({latest.Id} is): deploy again instead");
                }
            }

            var kindOf = kind == CommandKind.Promote && request.Full ? CommandKind.PromoteFull : kind;
            var result = RolloutEngine.Apply(spec, state, new RolloutCommand(kindOf, by, request.Reason), time.GetUtcNow());
            if (result.Decision is not { } decision)
            {
                return new Problem(409, "Command refused", result.Refusal!);
            }

            var outcome = await store.SaveAsync(decision.State, state.Revision, decision.Events, ct, who with { Reason = request.Reason });
            if (outcome != CommitOutcome.Committed)
            {
                return new Problem(409, "Command refused", outcome == CommitOutcome.Busy
                    ? $"another rollout of {state.Service} in {state.Environment} is active"
                    : $"rollout {state.Id} changed meanwhile: try again");
            }

            reconciler.Committed.Pulse();
            reconciler.Wake.Pulse();
            await reconciler.CommittedAsync(ct);
            return decision.State;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Who the automatic promotions are made by, in rollouts and the audit trail.</summary>
    public const string AutoPromoter = "gantry (auto-promotion)";

    private DateTimeOffset nextAutoPromotion = DateTimeOffset.MinValue;

    /// <summary>
    /// Automatic promotion (<c>promotion: { auto: true }</c>): the newest release that succeeded in the source
    /// environment is deployed to the environment once it has soaked, unless it was already rolled out there
    /// (whatever came of it). A deploy refused for now (a freeze, a gate, another active rollout) is tried again
    /// later. Looked at every couple of seconds from the reconcile loop.
    /// </summary>
    public async Task AutoPromoteAsync(CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (now < nextAutoPromotion)
        {
            return;
        }

        nextAutoPromotion = now + TimeSpan.FromSeconds(2);
        foreach (var environment in manifest.Environments.Where(e => e.Promotion is { Auto: true }))
        {
            foreach (var service in manifest.Services)
            {
                var source = await store.ListAsync(new RolloutQuery(service.Name, environment.Promotion!.From, Limit: 1000), ct);
                if (source.Where(r => r.Kind == RolloutKind.Deploy && r.Phase == RolloutPhase.Succeeded).MaxBy(r => r.CreatedAt) is not { } newest)
                {
                    continue;
                }

                var version = newest.Release.Version;
                var here = await store.ListAsync(new RolloutQuery(service.Name, environment.Name, Limit: 1000), ct);
                if (here.Any(r => r.Release.Version == version)
                    || !Core.Policies.PromotionRule.Check(environment.Promotion, environment.Name, service.Name, version, source, now).Allowed)
                {
                    continue;
                }

                var release = newest.Release;
                await DeployAsync(new DeployRequest(service.Name, version, environment.Name, release.Variables.ToDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal), release.CommitSha, release.CommitTime, Secret: release.Secret), new AuditContext(AutoPromoter), ct);
            }
        }
    }

    /// <summary>The environment's promotion rule for a release, from the service's history in the source environment (null without a rule).</summary>
    private async Task<Core.Policies.PromotionVerdict?> PromotionAsync(string environment, string service, string version, CancellationToken ct)
    {
        if (manifest.FindEnvironment(environment)?.Promotion is not { } promotion)
        {
            return null;
        }

        var source = await store.ListAsync(new RolloutQuery(service, promotion.From, Limit: 1000), ct);
        return Core.Policies.PromotionRule.Check(promotion, environment, service, version, source, time.GetUtcNow());
    }

    /// <summary>Whether a deploy into the environment may start now; cheap enough for the queue, which is looked at every pass.</summary>
    private async Task<bool> CalendarAllowsAsync(string environment, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        return !(await freezes.FreezesAsync(environment, ct)).Any(f => f.IsActive(now))
            && (manifest.FindEnvironment(environment) is not { } spec || Core.Policies.DeployCalendar.Allows(spec, now));
    }

    /// <summary>Why a deploy into the environment may not start now (a declared freeze, a window or a freeze, with the next allowed time), or null.</summary>
    private async Task<Problem?> CalendarAsync(string environment, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if ((await freezes.FreezesAsync(environment, ct)).LastOrDefault(f => f.IsActive(now)) is { } declared)
        {
            var until = declared.Until is { } u ? string.Create(CultureInfo.InvariantCulture, $"until {u:yyyy-MM-dd HH:mm} UTC") : $"until lifted (gantry unfreeze {environment})";
            return new Problem(409, "Frozen", string.Create(CultureInfo.InvariantCulture,
                $"deploys to {environment} are frozen by {declared.By} since {declared.At:yyyy-MM-dd HH:mm} UTC ({declared.Reason}), {until}"), "calendar");
        }

        if (manifest.FindEnvironment(environment) is not { } spec)
        {
            return null;
        }

        var verdict = Core.Policies.DeployCalendar.Check(spec, time.GetUtcNow());
        return verdict.Allowed ? null : new Problem(409, verdict.Rule == "freeze" ? "Frozen" : "Outside the deployment windows", verdict.Message, "calendar");
    }

    /// <summary>Closes an environment to deploys now, until <paramref name="duration"/> has passed or the freeze is lifted.</summary>
    public async Task<Result<Core.Policies.DeclaredFreeze>> FreezeAsync(string environment, string? reason, TimeSpan? duration, AuditContext who, CancellationToken ct)
    {
        if (manifest.FindEnvironment(environment) is null && EffectiveService.DefaultEnvironmentOf(manifest) != environment)
        {
            return new Problem(404, "Unknown environment", $"no environment '{environment}' in the manifest");
        }

        if (string.IsNullOrWhiteSpace(reason))
        {
            return Bad("a freeze needs a reason (--reason)");
        }

        if (TooLong(reason) is { } tooLong)
        {
            return tooLong;
        }

        var now = time.GetUtcNow();
        return await freezes.DeclareFreezeAsync(new Core.Policies.DeclaredFreeze(0, environment, reason.Trim(), who.Actor, now, duration is { } d ? now + d : null), ct, who with { Reason = reason.Trim() });
    }

    /// <summary>Lifts the environment's declared freezes.</summary>
    public async Task<Result<IReadOnlyList<Core.Policies.DeclaredFreeze>>> UnfreezeAsync(string environment, AuditContext who, CancellationToken ct)
    {
        var lifted = await freezes.LiftFreezesAsync(environment, who.Actor, time.GetUtcNow(), ct, who);
        if (lifted.Count == 0)
        {
            return new Problem(409, "Not frozen", $"{environment} has no declared freeze to lift (freezes in the manifest are lifted by editing it)");
        }

        reconciler.Wake.Pulse();
        return new Result<IReadOnlyList<Core.Policies.DeclaredFreeze>>(lifted, null);
    }

    /// <summary>A rollout's checklist as last checked (its items unchecked yet when it has just been created).</summary>
    public async Task<Result<Core.Checklists.ChecklistRecord>> ChecklistAsync(string id, CancellationToken ct)
    {
        if (await store.GetAsync(id, ct) is not { } state)
        {
            return new Problem(404, "Unknown rollout", $"there is no rollout '{id}'");
        }

        if (await checklistStore.ChecklistAsync(id, ct) is { } record)
        {
            return record;
        }

        var items = checklists.ItemsFor(state.Environment);
        return state.AwaitsChecklist && !items.IsEmpty
            ? new Core.Checklists.ChecklistRecord(id, state.Environment, [.. items.Select(i => new Core.Checklists.ChecklistItemResult(i.Name, i.Check.Kind, i.Required, false, "not checked yet", time.GetUtcNow()))], time.GetUtcNow())
            : new Problem(404, "No checklist", $"rollout {id} did not wait for a checklist ({state.Environment} has none, or it is a rollback)");
    }

    /// <summary>A person signs off a checklist item of a waiting rollout; recorded with who and when.</summary>
    public async Task<Result<Core.Checklists.ChecklistRecord>> SignOffAsync(string id, string item, AuditContext who, CancellationToken ct, Core.Access.Principal? caller = null)
    {
        if (await store.GetAsync(id, ct) is not { } state)
        {
            return new Problem(404, "Unknown rollout", $"there is no rollout '{id}'");
        }

        var items = checklists.ItemsFor(state.Environment);
        if (items.FirstOrDefault(i => i.Name == item) is not { } found)
        {
            return new Problem(404, "Unknown checklist item", $"the checklist of {state.Environment} has no item '{item}'" + (items.IsEmpty ? string.Empty : $"; it has {string.Join(", ", items.Select(i => i.Name))}"));
        }

        if (found.Check is not SignOffCheck)
        {
            return new Problem(400, "Not a sign-off", $"'{item}' is an automated {found.Check.Kind} check: it passes by itself, not by a signature");
        }

        if (!state.AwaitsChecklist || !state.IsWaiting)
        {
            return new Problem(409, "Not waiting", $"rollout {id} is {state.Phase}: it no longer waits for its checklist");
        }

        // The item names who signs it (a group), and nobody signs off their own rollout.
        if (caller is not null && Core.Checklists.SignOffRule.Refusal(((SignOffCheck)found.Check).Role, item, state.CreatedBy, caller.Name, caller.Groups) is { } refused)
        {
            return new Problem(403, "Sign-off refused", refused, "signoff");
        }

        if (!await checklistStore.SignAsync(new Core.Checklists.SignOff(id, item, who.Actor, time.GetUtcNow()), ct, who))
        {
            var first = (await checklistStore.SignOffsAsync(id, ct)).First(s => s.Item == item);
            return new Problem(409, "Already signed", string.Create(CultureInfo.InvariantCulture, $"'{item}' of rollout {id} was signed off by {first.By} at {first.At:yyyy-MM-dd HH:mm} UTC"));
        }

        checklists.Poke(id);
        reconciler.Wake.Pulse();
        var record = await checklists.CheckAsync(id, state.Environment, ct);
        await checklistStore.SaveChecklistAsync(record, ct);
        return record;
    }

    /// <summary>Where a waiting rollout's approval stands, for the reconciler's observation (null when it does not wait for one).</summary>
    public async Task<Core.Approvals.ApprovalStatus?> ApprovalStatusAsync(RolloutState state, CancellationToken ct)
    {
        if (!state.AwaitsApproval || !state.IsWaiting)
        {
            return null;
        }

        if (manifest.FindEnvironment(state.Environment)?.Approvals is not { } policy)
        {
            return new Core.Approvals.ApprovalStatus(Core.Approvals.ApprovalState.Approved, 0, 0, [], $"{state.Environment} no longer requires approval");
        }

        return Core.Approvals.ApprovalRule.Evaluate(policy, state.CreatedBy, await approvals.ApprovalsAsync(state.Id, ct), time.GetUtcNow());
    }

    /// <summary>A rollout's approval: the rule's verdict and every decision so far.</summary>
    public async Task<Result<ApprovalView>> ApprovalAsync(string id, Core.Access.Principal? caller, CancellationToken ct)
    {
        if (await store.GetAsync(id, ct) is not { } state)
        {
            return new Problem(404, "Unknown rollout", $"there is no rollout '{id}'");
        }

        return await ApprovalViewAsync(state, caller, ct);
    }

    private async Task<ApprovalView> ApprovalViewAsync(RolloutState state, Core.Access.Principal? caller, CancellationToken ct)
    {
        var policy = manifest.FindEnvironment(state.Environment)?.Approvals;
        var decisions = await approvals.ApprovalsAsync(state.Id, ct);
        var status = policy is null ? null : Core.Approvals.ApprovalRule.Evaluate(policy, state.CreatedBy, decisions, time.GetUtcNow());
        string? refusal = null;
        if (caller is not null)
        {
            refusal = !state.AwaitsApproval || !state.IsWaiting ? $"rollout {state.Id} does not wait for approval ({state.Phase})"
                : policy is null ? $"{state.Environment} does not require approval"
                : !caller.May(Core.Access.Role.Approver, state.Environment) ? caller.Refusal(Core.Access.Role.Approver, state.Environment)
                : Core.Approvals.ApprovalRule.Refusal(policy, state.CreatedBy, caller.Name, caller.Groups, decisions, time.GetUtcNow());
        }

        return new ApprovalView(state.Id, state.Service, state.Environment, state.Release.Version, state.CreatedBy, state.Phase, state.AwaitsApproval && state.IsWaiting, status, decisions, caller is not null && refusal is null, refusal);
    }

    /// <summary>Rollouts waiting for approval now, each with whether <paramref name="caller"/> may approve it.</summary>
    public async Task<IReadOnlyList<ApprovalView>> AwaitingApprovalAsync(Core.Access.Principal? caller, CancellationToken ct)
    {
        var list = new List<ApprovalView>();
        foreach (var state in (await store.ListAsync(new RolloutQuery(ActiveOnly: true, Limit: 1000), ct)).Where(s => s.AwaitsApproval && s.IsWaiting))
        {
            list.Add(await ApprovalViewAsync(state, caller, ct));
        }

        return list;
    }

    /// <summary>
    /// A person approves or rejects a rollout waiting for approval: they must hold the approver role for its
    /// environment, be in a group the rule names, and (unless allowed) not be who deployed it. Recorded with the audit event.
    /// </summary>
    public async Task<Result<ApprovalView>> DecideAsync(string id, Core.Access.Principal caller, Core.Approvals.ApprovalDecision decision, string? comment, AuditContext who, CancellationToken ct)
    {
        if (TooLong(comment, "comment") is { } tooLong)
        {
            return tooLong;
        }

        if (await store.GetAsync(id, ct) is not { } state)
        {
            return new Problem(404, "Unknown rollout", $"there is no rollout '{id}'");
        }

        if (!state.AwaitsApproval || !state.IsWaiting)
        {
            return new Problem(409, "Not awaiting approval", state.AwaitsApproval || state.Phase.IsTerminal()
                ? $"rollout {id} is {state.Phase}: it no longer waits for approval"
                : $"rollout {id} does not wait for approval ({state.Environment} does not require it, or it has been approved)");
        }

        if (manifest.FindEnvironment(state.Environment)?.Approvals is not { } policy)
        {
            return new Problem(409, "Not awaiting approval", $"{state.Environment} no longer requires approval");
        }

        if (!caller.May(Core.Access.Role.Approver, state.Environment))
        {
            return new Problem(403, "Forbidden", caller.Refusal(Core.Access.Role.Approver, state.Environment));
        }

        var now = time.GetUtcNow();
        var given = await approvals.ApprovalsAsync(id, ct);
        if (Core.Approvals.ApprovalRule.Refusal(policy, state.CreatedBy, caller.Name, caller.Groups, given, now) is { } refused)
        {
            return new Problem(403, "Approval refused", refused, "approval");
        }

        if (decision == Core.Approvals.ApprovalDecision.Rejected && string.IsNullOrWhiteSpace(comment))
        {
            return Bad("a rejection needs a reason (--comment)");
        }

        var groups = policy.From.IsEmpty ? caller.Groups : [.. caller.Groups.Where(policy.From.Contains)];
        var record = new Core.Approvals.ApprovalRecord(id, caller.Name, groups, decision, comment?.Trim(), now, who.Source);
        await approvals.RecordApprovalAsync(record, who with { Reason = comment?.Trim() }, ct);
        reconciler.Wake.Pulse();
        return await ApprovalViewAsync(state, caller, ct);
    }

    /// <summary>The newest rollout of a service in an environment (the default one when not named).</summary>
    public async Task<Result<RolloutState>> LatestAsync(string serviceName, string? environmentName, CancellationToken ct)
    {
        if (Resolve(serviceName, environmentName, out var service, out var environment) is { } problem)
        {
            return problem;
        }

        var latest = First(await store.ListAsync(new RolloutQuery(service.Name, environment, Limit: 1), ct));
        return latest is null
            ? new Problem(404, "No rollout", $"{service.Name} has never been deployed to {environment}")
            : latest;
    }

    public RolloutView View(RolloutState state)
    {
        var instances = runtime.Observe().Where(i => i.SetId.BelongsTo(state.Target)).OrderBy(i => i.Version, StringComparer.Ordinal).ThenBy(i => i.Index).ToList();
        var traffic = TrafficGroups.Of(state, set => RoutingPlanner.Serving(set, instances).Count())
            .Select(g => new TrafficView(g.Set.Version, g.Set.Role.ToString().ToLowerInvariant(), g.Weight, RoutingPlanner.Serving(g.Set, instances).Count(), g.Set.Replicas))
            .ToList();
        var total = traffic.Sum(t => t.Weight);
        if (state.Traffic.Proportional && total > 0)
        {
            traffic = [.. traffic.Select(t => t with { Weight = (int)Math.Round(100.0 * t.Weight / total) })];
        }

        return new RolloutView(state.Redacted(), Steps(state), traffic, instances, state.Analysis is { } a ? analysis.View(a.Key) : null, state.Background is { } b ? analysis.View(b.Key) : null);
    }

    private List<StepView> Steps(RolloutState state)
    {
        if (state.Strategy != StrategyKind.Canary || manifest.FindService(state.Service) is not { } service
            || EffectiveService.For(manifest, service, state.Environment).Strategy is not CanaryStrategy canary)
        {
            return [];
        }

        return [.. canary.Steps.Select((step, i) => new StepView(i + 1, Describe(step),
            i < state.Step || state.Phase == RolloutPhase.Succeeded ? "done" : i == state.Step && !state.Phase.IsTerminal() ? "current" : "pending"))];
    }

    public static string Describe(CanaryStep step) => step switch
    {
        SetWeightStep w => string.Create(CultureInfo.InvariantCulture, $"setWeight {w.Weight}"),
        PauseStep { Duration: { } d } => $"pause {Core.Manifest.Values.DurationSyntax.Format(d)}",
        PauseStep => "pause until promoted",
        AnalysisStep a => $"analysis {string.Join(", ", a.Analysis.Templates)}",
        SetHeaderRouteStep { Matches.IsEmpty: true } => "setHeaderRoute (remove)",
        SetHeaderRouteStep h => $"setHeaderRoute {string.Join(", ", h.Matches.Select(m => m.Name))}",
        SetMirrorStep m => string.Create(CultureInfo.InvariantCulture, $"setMirror {m.Percent}%"),
        _ => step.GetType().Name,
    };

    /// <summary>A secret named without a value is a mistake worth refusing (its value would be missing).</summary>
    private static Problem? UnknownSecrets(DeployRequest request)
    {
        var missing = (request.Secret ?? []).Where(k => request.Set is null || !request.Set.ContainsKey(k)).ToList();
        return missing.Count == 0 ? null : Bad($"secret variable {string.Join(", ", missing)} has no value: give it with --secret KEY=VALUE");
    }

    private Problem? Resolve(string serviceName, string? environmentName, out ServiceSpec service, out string environment)
    {
        environment = environmentName ?? EffectiveService.DefaultEnvironmentOf(manifest);
        service = manifest.FindService(serviceName)!;
        if (service is null)
        {
            var known = string.Join(", ", manifest.Services.Select(s => s.Name));
            return new Problem(404, "Unknown service", $"there is no service '{serviceName}' in the manifest (services: {known})");
        }

        if (!EffectiveService.Knows(manifest, environment))
        {
            var known = manifest.Environments.IsEmpty ? EffectiveService.DefaultEnvironment : string.Join(", ", manifest.Environments.Select(e => e.Name));
            return new Problem(400, "Unknown environment", $"there is no environment '{environment}' in the manifest (environments: {known})");
        }

        return null;
    }

    private static RolloutState? First(IReadOnlyList<RolloutState> list) => list.Count > 0 ? list[0] : null;

    private static Problem Bad(string detail) => new(400, "Invalid request", detail);

    /// <summary>A reason, comment or note beyond the limit: 413, nothing stored.</summary>
    public static Problem? TooLong(string? text, string what = "reason") =>
        DeployVariables.CheckReason(text, what) is { } message ? new Problem(413, "Too large", message, "too-large") : null;
}

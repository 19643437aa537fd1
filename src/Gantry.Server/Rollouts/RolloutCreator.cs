using Gantry.Core.Audit;
using Gantry.Core.Strategies;
using Gantry.Server.Reconciler;

namespace Gantry.Server.Rollouts;

/// <summary>What a new rollout is: of which release, deploy or rollback, by whom and why, which rollout it undoes, from the queue or not, an emergency or not, and what it waits for.</summary>
public sealed record NewRollout(ServiceSpec Service, string Environment, Release Release, RolloutKind Kind, AuditContext Who, string? Reason = null, RolloutState? Replaced = null, long? FromQueue = null, bool Emergency = false, bool AwaitsChecklist = false, bool AwaitsApproval = false)
{
    /// <summary>A rollback's steps, when it moves traffic back gradually.</summary>
    public GradualRollback? Gradual { get; init; }
}

/// <summary>
/// Creates rollouts, under the target's lock: refused while another rollout of the service runs there, when the
/// release already runs with these variables, or when the service's front door serves another environment; the
/// new state, its first event, the undone rollout's mark and the queue entry commit together.
/// </summary>
public sealed class RolloutCreator(GantryManifest manifest, IRolloutStore store, ReconcilerSignals signals, TimeProvider time)
{
    public async Task<Result<RolloutState>> CreateAsync(NewRollout ask, CancellationToken ct)
    {
        var (service, environment, release) = (ask.Service, ask.Environment, ask.Release);
        var by = ask.Who.Actor;
        var spec = EffectiveService.For(manifest, service, environment);
        var gate = signals.LockFor(new(service.Name, environment));
        await gate.WaitAsync(ct);
        try
        {
            var latest = Requests.First(await store.ListAsync(new RolloutQuery(service.Name, environment, Limit: 1), ct));
            if (latest is { Phase: var phase } && !phase.IsTerminal())
            {
                return Busy(latest);
            }

            // Secret values are not compared: whether a guessed value is the one running is never revealed.
            if (ask.Kind == RolloutKind.Deploy && latest?.SetOf(SetRole.Stable) is { } stable && stable.Release.SameConfiguration(release))
            {
                return ProblemCodes.AlreadyRunning.With($"{release.Version} is already the stable release of {service.Name} in {environment} with these variables"
                    + (release.Secret.IsEmpty ? string.Empty : " (secret values are not compared: to change only a secret's value, deploy it with a new version or another variable)"));
            }

            if (await SharedFrontDoorAsync(spec, environment, ct) is { } shared)
            {
                return shared;
            }

            var id = await store.NextIdAsync(service.Name, environment, ct);
            var now = time.GetUtcNow();
            var state = RolloutEngine.Create(id, spec, environment, release, ask.Kind, latest?.Sets ?? [], now, by, ask.Emergency, ask.AwaitsChecklist, ask.AwaitsApproval, ask.Reason, ask.Gradual);
            var what = ask.Kind == RolloutKind.Rollback
                ? $"rollback of {service.Name} in {environment} to {release.Version}{(ask.Gradual is { } steps ? $" in steps ({steps})" : string.Empty)} by {by}{(ask.Reason is null ? string.Empty : ": " + ask.Reason)}"
                : ask.Emergency
                    ? $"EMERGENCY deploy of {service.Name} {release.Version} to {environment} by {by}: {ask.Reason} (past deployment windows, freezes and soak)"
                    : $"deploy of {service.Name} {release.Version} to {environment} by {by}";
            var queuedNote = ask.FromQueue is null ? string.Empty : ", from the queue";
            // A rollback marks the rollout it undoes in the same transaction: a change failure is never lost.
            var undone = $"rolled back to {release.Version} by {by} ({id})";
            var marks = ask.Replaced is not { } replaced ? null : new RolloutChange(
                replaced with { Phase = RolloutPhase.RolledBack, Message = undone, Revision = replaced.Revision + 1, UpdatedAt = now }, replaced.Revision, [new RolloutEvent(RolloutEventType.RolledBack, undone)]);
            var outcome = await store.CreateAsync(state, [new RolloutEvent(RolloutEventType.Created, $"{what} ({state.Message}{queuedNote})")], ct, ask.FromQueue, ask.Who with { Reason = ask.Reason }, marks);
            if (outcome == CommitOutcome.Conflict)
            {
                return ProblemCodes.RolloutInProgress.With("the queued deploy was started meanwhile");
            }

            if (outcome == CommitOutcome.Busy)
            {
                return ProblemCodes.RolloutInProgress.With($"another rollout of {service.Name} in {environment} started meanwhile");
            }

            signals.AfterCommit();
            return state;
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The refusal a deploy with --queue waits out.</summary>
    public static Problem Busy(RolloutState active) =>
        ProblemCodes.RolloutInProgress.With($"{active.Service} in {active.Environment} is busy with rollout {active.Id} of {active.Release.Version} ({active.Phase}): wait for it, abort it, or deploy with --queue");

    /// <summary>
    /// Environments on one host never share a front door silently: a service whose listener already serves
    /// another environment (or service) is refused, with how to give it its own.
    /// </summary>
    /// <remarks>Only the targets of services that may listen there are read (a deploy costs the same with 1,000 services declared as with one).</remarks>
    private async Task<Problem?> SharedFrontDoorAsync(ServiceSpec spec, string environment, CancellationToken ct)
    {
        foreach (var otherService in EffectiveService.MayListenOn(manifest, spec.Listen))
        {
            foreach (var other in await store.LatestPerTargetAsync(ct, otherService.Name))
            {
                if ((other.Service == spec.Name && other.Environment == environment) || other.StableVersion is null)
                {
                    continue;
                }

                if (EffectiveService.For(manifest, otherService, other.Environment).Listen == spec.Listen)
                {
                    return ProblemCodes.FrontDoorInUse.With($"{spec.Listen} is the front door of {other.Service} in {other.Environment}, which runs {other.StableVersion}: "
                        + $"{spec.Name} in {environment} would share it. Give {environment} its own with environments.{environment}.overrides.{spec.Name}.listen in the manifest");
                }
            }
        }

        return null;
    }
}

using Gantry.Core.Access;
using Gantry.Core.Approvals;
using Gantry.Core.Audit;
using Gantry.Server.Reconciler;

namespace Gantry.Server.Rollouts;

/// <summary>
/// Approvals of rollouts waiting for them: where each stands under the environment's rule, who may decide, and
/// the decisions themselves (recorded with their audit event). The reconciler reads the standing through <see cref="IApprovalSource"/>.
/// </summary>
public sealed class ApprovalService(GantryManifest manifest, IRolloutStore store, IApprovalStore approvals, ReconcilerSignals signals, TimeProvider time) : IApprovalSource
{
    /// <summary>Where a waiting rollout's approval stands (null when it does not wait for one).</summary>
    public async Task<ApprovalStatus?> StatusAsync(RolloutState state, CancellationToken ct)
    {
        if (!state.AwaitsApproval || !state.IsWaiting)
        {
            return null;
        }

        if (manifest.FindEnvironment(state.Environment)?.Approvals is not { } policy)
        {
            return new ApprovalStatus(ApprovalState.Approved, 0, 0, [], $"{state.Environment} no longer requires approval");
        }

        return ApprovalRule.Evaluate(policy, state.CreatedBy, await approvals.ApprovalsAsync(state.Id, ct), time.GetUtcNow());
    }

    /// <summary>A rollout's approval: the rule's verdict and every decision so far.</summary>
    public async Task<Result<ApprovalView>> ApprovalAsync(string id, Principal? caller, CancellationToken ct) =>
        await store.GetAsync(id, ct) is { } state ? await ViewAsync(state, caller, ct) : ProblemCodes.UnknownRollout.With($"there is no rollout '{id}'");

    /// <summary>Rollouts waiting for approval now, each with whether <paramref name="caller"/> may approve it.</summary>
    public async Task<IReadOnlyList<ApprovalView>> AwaitingAsync(Principal? caller, CancellationToken ct)
    {
        var list = new List<ApprovalView>();
        foreach (var state in (await store.ListAsync(new RolloutQuery(ActiveOnly: true, Limit: 1000), ct)).Where(s => s.AwaitsApproval && s.IsWaiting))
        {
            list.Add(await ViewAsync(state, caller, ct));
        }

        return list;
    }

    /// <summary>
    /// A person approves or rejects a rollout waiting for approval: they must hold the approver role for its
    /// environment, be in a group the rule names, and (unless allowed) not be who deployed it.
    /// </summary>
    public async Task<Result<ApprovalView>> DecideAsync(string id, Principal caller, ApprovalDecision decision, string? comment, AuditContext who, CancellationToken ct)
    {
        if (Requests.TooLong(comment, "comment") is { } tooLong)
        {
            return tooLong;
        }

        if (await store.GetAsync(id, ct) is not { } state)
        {
            return ProblemCodes.UnknownRollout.With($"there is no rollout '{id}'");
        }

        if (!state.AwaitsApproval || !state.IsWaiting)
        {
            return ProblemCodes.NotAwaitingApproval.With(state.AwaitsApproval || state.Phase.IsTerminal()
                ? $"rollout {id} is {state.Phase}: it no longer waits for approval"
                : $"rollout {id} does not wait for approval ({state.Environment} does not require it, or it has been approved)");
        }

        if (manifest.FindEnvironment(state.Environment)?.Approvals is not { } policy)
        {
            return ProblemCodes.NotAwaitingApproval.With($"{state.Environment} no longer requires approval");
        }

        if (!caller.May(Role.Approver, state.Environment))
        {
            return ProblemCodes.Forbidden.With(caller.Refusal(Role.Approver, state.Environment));
        }

        var now = time.GetUtcNow();
        if (ApprovalRule.Refusal(policy, state.CreatedBy, caller.Name, caller.Groups, await approvals.ApprovalsAsync(id, ct), now) is { } refused)
        {
            return ProblemCodes.ApprovalRefused.With(refused);
        }

        if (decision == ApprovalDecision.Rejected && string.IsNullOrWhiteSpace(comment))
        {
            return Requests.Bad("a rejection needs a reason (--comment)");
        }

        var groups = policy.From.IsEmpty ? caller.Groups : [.. caller.Groups.Where(policy.From.Contains)];
        await approvals.RecordApprovalAsync(new ApprovalRecord(id, caller.Name, groups, decision, comment?.Trim(), now, who.Source), who with { Reason = comment?.Trim() }, ct);
        signals.Wake.Pulse();
        return await ViewAsync(state, caller, ct);
    }

    private async Task<ApprovalView> ViewAsync(RolloutState state, Principal? caller, CancellationToken ct)
    {
        var policy = manifest.FindEnvironment(state.Environment)?.Approvals;
        var decisions = await approvals.ApprovalsAsync(state.Id, ct);
        var status = policy is null ? null : ApprovalRule.Evaluate(policy, state.CreatedBy, decisions, time.GetUtcNow());
        string? refusal = null;
        if (caller is not null)
        {
            refusal = !state.AwaitsApproval || !state.IsWaiting ? $"rollout {state.Id} does not wait for approval ({state.Phase})"
                : policy is null ? $"{state.Environment} does not require approval"
                : !caller.May(Role.Approver, state.Environment) ? caller.Refusal(Role.Approver, state.Environment)
                : ApprovalRule.Refusal(policy, state.CreatedBy, caller.Name, caller.Groups, decisions, time.GetUtcNow());
        }

        return new ApprovalView(state.Id, state.Service, state.Environment, state.Release.Version, state.CreatedBy, state.Phase, state.AwaitsApproval && state.IsWaiting, status, decisions, caller is not null && refusal is null, refusal);
    }
}

using Gantry.Core.Approvals;

namespace Gantry.Server.Reconciler;

/// <summary>Where a rollout waiting for approval stands; the approvals live outside the rollout's state.</summary>
public interface IApprovalSource
{
    /// <summary>The rule's verdict for a rollout that waits for approval; null when it does not.</summary>
    Task<ApprovalStatus?> StatusAsync(RolloutState state, CancellationToken ct);
}

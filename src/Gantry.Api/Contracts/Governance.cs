using Gantry.Core.Access;
using Gantry.Core.Rollouts;

namespace Gantry.Api;

/// <summary>A rollout's approval as shown: the rule's verdict, every decision, and whether the caller may decide (and why not).</summary>
public sealed record ApprovalView(
    string RolloutId, string Service, string Environment, string Version, string? RequestedBy, RolloutPhase Phase, bool Waiting,
    Core.Approvals.ApprovalStatus? Status, IReadOnlyList<Core.Approvals.ApprovalRecord> Decisions, bool CanDecide, string? CannotDecide);

/// <summary>A freeze declared by hand: why, and for how long (a duration such as 2h; until lifted when absent).</summary>
public sealed record FreezeRequest(string? Reason, string? For = null);

/// <summary>A token as asked for: whose, which roles, groups and environments, and how long it lives (a duration such as 90d, or "never").</summary>
public sealed record TokenRequest(string? Identity, IReadOnlyList<string>? Roles, IReadOnlyList<string>? Groups = null, IReadOnlyList<string>? Environments = null, string? Expires = null);

/// <summary>A new token: the record, and the secret, shown this once.</summary>
public sealed record CreatedToken(TokenView Token, string Secret);

/// <summary>Maintenance on for a service: where (the default environment when not given), and what clients are told.</summary>
public sealed record MaintenanceRequest(string? Environment = null, string? Message = null);

/// <summary>Requests to a service paused: where (the default environment when not given), and how long each may be held (a duration such as 30s; 30s when not given).</summary>
public sealed record PauseRequest(string? Environment = null, string? MaxWait = null);

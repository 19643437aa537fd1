using System.Globalization;
using Gantry.Core.Manifest;

namespace Gantry.Core.Approvals;

public enum ApprovalDecision
{
    Approved,
    Rejected,
}

/// <summary>One person's decision on a rollout, with the groups they approved as, when, and why.</summary>
public sealed record ApprovalRecord(string RolloutId, string By, ValueList<string> Groups, ApprovalDecision Decision, string? Comment, DateTimeOffset At, string? Source = null)
{
    public string Describe() => string.Create(CultureInfo.InvariantCulture,
        $"{(Decision == ApprovalDecision.Approved ? "approved" : "rejected")} by {By}{(Groups.IsEmpty ? string.Empty : $" ({string.Join(", ", Groups)})")} at {At.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z{(Comment is { Length: > 0 } c ? $": {c}" : string.Empty)}");
}

public enum ApprovalState
{
    /// <summary>Fewer valid approvals than required.</summary>
    Waiting,

    Approved,

    /// <summary>Someone allowed to approve rejected it: the rollout ends.</summary>
    Rejected,
}

/// <summary>Where a rollout's approval stands: counted approvals, what is missing, in one sentence.</summary>
public sealed record ApprovalStatus(ApprovalState State, int Counted, int Required, ValueList<ApprovalRecord> Valid, string Message);

/// <summary>
/// The approval rule of an environment, as pure functions: who may approve a rollout (the role is checked
/// by the caller; here the groups and self-approval), and whether the approvals given so far suffice
/// (distinct people, in the named groups, not older than the expiry).
/// </summary>
public static class ApprovalRule
{
    /// <summary>Why <paramref name="by"/> (in <paramref name="groups"/>) may not decide on a rollout created by <paramref name="createdBy"/>; null when they may.</summary>
    public static string? Refusal(ApprovalPolicy policy, string? createdBy, string by, IReadOnlyCollection<string> groups, IReadOnlyList<ApprovalRecord> given, DateTimeOffset now)
    {
        if (policy.NoSelfApproval && createdBy is not null && string.Equals(createdBy, by, StringComparison.Ordinal))
        {
            return $"{by} deployed this rollout and cannot approve it (self-approval is not allowed here)";
        }

        if (!policy.From.IsEmpty && !policy.From.Any(groups.Contains))
        {
            return $"{by} is not in a group that may approve here ({string.Join(", ", policy.From)}){(groups.Count == 0 ? string.Empty : $"; {by} is in {string.Join(", ", groups)}")}";
        }

        if (given.Any(a => a.By == by && a.Decision == ApprovalDecision.Approved && Counts(policy, a, now)))
        {
            return $"{by} has already approved this rollout";
        }

        return null;
    }

    /// <summary>Whether an approval still counts: given by a member of a named group, and within the expiry.</summary>
    public static bool Counts(ApprovalPolicy policy, ApprovalRecord approval, DateTimeOffset now) =>
        (policy.From.IsEmpty || policy.From.Any(approval.Groups.Contains))
        && (policy.Expiry is not { } expiry || now - approval.At < expiry);

    /// <summary>The state of a rollout's approval from every decision recorded for it.</summary>
    public static ApprovalStatus Evaluate(ApprovalPolicy policy, string? createdBy, IReadOnlyList<ApprovalRecord> given, DateTimeOffset now)
    {
        if (given.FirstOrDefault(a => a.Decision == ApprovalDecision.Rejected) is { } rejected)
        {
            return new ApprovalStatus(ApprovalState.Rejected, 0, policy.Required, [], rejected.Describe());
        }

        // The newest approval of each person counts once; a self-approval never counts, whatever wrote it.
        var valid = given
            .Where(a => a.Decision == ApprovalDecision.Approved && Counts(policy, a, now) && !(policy.NoSelfApproval && a.By == createdBy))
            .GroupBy(a => a.By, StringComparer.Ordinal)
            .Select(g => g.MaxBy(a => a.At)!)
            .OrderBy(a => a.At)
            .ToList();
        var expired = policy.Expiry is null ? 0 : given.Count(a => a.Decision == ApprovalDecision.Approved && now - a.At >= policy.Expiry);
        if (valid.Count >= policy.Required)
        {
            return new ApprovalStatus(ApprovalState.Approved, valid.Count, policy.Required, [.. valid],
                $"approved: {string.Join("; ", valid.Select(a => a.Describe()))}");
        }

        var from = policy.From.IsEmpty ? "an approver" : $"a member of {string.Join(" or ", policy.From)}";
        var message = string.Create(CultureInfo.InvariantCulture,
            $"waiting for approval: {valid.Count} of {policy.Required} from {from}{(policy.NoSelfApproval && createdBy is not null ? $", not {createdBy}" : string.Empty)}");
        if (expired > 0)
        {
            message += string.Create(CultureInfo.InvariantCulture, $" ({expired} older than {Manifest.Values.DurationSyntax.Format(policy.Expiry!.Value)} no longer count)");
        }

        return new ApprovalStatus(ApprovalState.Waiting, valid.Count, policy.Required, [.. valid], message);
    }
}

/// <summary>Where approvals are kept, with their rollout; each decision is audited in its transaction.</summary>
public interface IApprovalStore
{
    Task RecordApprovalAsync(ApprovalRecord approval, Audit.AuditContext who, CancellationToken ct);

    Task<IReadOnlyList<ApprovalRecord>> ApprovalsAsync(string rolloutId, CancellationToken ct);
}

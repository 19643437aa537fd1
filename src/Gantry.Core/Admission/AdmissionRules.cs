using System.Globalization;
using Gantry.Core.Access;
using Gantry.Core.Manifest;
using Gantry.Core.Policies;
using Gantry.Core.Rollouts;

namespace Gantry.Core.Admission;

/// <summary>The rule that refused a deploy.</summary>
public enum AdmissionRule
{
    /// <summary>The environment's quality gate has not let the release in.</summary>
    Gate,

    /// <summary>An emergency deploy without a reason.</summary>
    EmergencyNeedsReason,

    /// <summary>An emergency deploy asked to wait in the queue.</summary>
    EmergencyNotQueued,

    /// <summary>An emergency deploy by someone without the emergency role there.</summary>
    EmergencyRole,

    /// <summary>A freeze declared by a person (gantry freeze).</summary>
    DeclaredFreeze,

    /// <summary>A freeze of the manifest.</summary>
    Freeze,

    /// <summary>Outside the environment's deployment windows.</summary>
    Window,

    /// <summary>Not (yet) promoted from the environment before: not succeeded there, or not soaked long enough.</summary>
    Promotion,
}

/// <summary>
/// Everything admission looks at: the deploy as asked (service, environment, version, emergency, queue, reason,
/// by whom), the environment's rules from the manifest, the freezes people declared, the service's history in
/// the environment it is promoted from, and what the environment's gate says of the release.
/// </summary>
public sealed record AdmissionRequest(
    string Service,
    string Environment,
    string Version,
    DateTimeOffset Now,
    EnvironmentSpec? Rules,
    IReadOnlyList<DeclaredFreeze> DeclaredFreezes,
    IReadOnlyList<RolloutState> SourceHistory,
    string? GateRefusal = null,
    Principal? Caller = null,
    bool Emergency = false,
    string? Reason = null,
    bool Queue = false);

/// <summary>
/// Admission's answer: allowed (and whether the rollout waits for its checklist or approvals), or refused by
/// <see cref="Refusal"/> with the reason and, when time alone lifts the refusal, the first allowed time.
/// </summary>
public sealed record AdmissionDecision(AdmissionRule? Refusal, string Message, DateTimeOffset? NextAllowedAt = null, bool AwaitsChecklist = false, bool AwaitsApproval = false, bool Emergency = false)
{
    public bool Allowed => Refusal is null;

    /// <summary>Refused for now: a window, a freeze or a soak that ends (a queued deploy waits; anything else never starts).</summary>
    public bool OnlyForNow => Refusal is AdmissionRule.Window or AdmissionRule.Freeze or AdmissionRule.DeclaredFreeze
        || (Refusal == AdmissionRule.Promotion && NextAllowedAt is not null);
}

/// <summary>
/// Whether a deploy may start, as a pure function of what it is given. The order is the order a person
/// reads the refusals in: the gate, then what an emergency deploy must say, then the calendar (windows and
/// freezes; an emergency goes past them), then promotion (an emergency goes past a soak, never past a release
/// that did not succeed where it is promoted from). Approvals and checklists do not refuse: the rollout waits.
/// </summary>
public static class AdmissionRules
{
    public static AdmissionDecision Decide(AdmissionRequest request)
    {
        if (request.GateRefusal is { } gate)
        {
            return Refuse(AdmissionRule.Gate, gate);
        }

        if (request.Emergency && string.IsNullOrWhiteSpace(request.Reason))
        {
            return Refuse(AdmissionRule.EmergencyNeedsReason, "an emergency deploy needs a reason (--reason): it is recorded with the rollout and in the audit trail");
        }

        if (request.Emergency && request.Queue)
        {
            return Refuse(AdmissionRule.EmergencyNotQueued, "an emergency deploy does not wait in the queue: abort the active rollout first");
        }

        if (request.Emergency && request.Caller is { } caller && !caller.May(Role.Emergency, request.Environment))
        {
            return Refuse(AdmissionRule.EmergencyRole, $"{caller.Name} does not hold the emergency role in {request.Environment}");
        }

        if (!request.Emergency && Calendar(request) is { } closed)
        {
            return closed;
        }

        if (request.Rules?.Promotion is { } promotion
            && PromotionRule.Check(promotion, request.Environment, request.Service, request.Version, request.SourceHistory, request.Now) is { Allowed: false } notPromoted
            && !(request.Emergency && notPromoted.AllowedAt is not null))
        {
            return Refuse(AdmissionRule.Promotion, notPromoted.Message, notPromoted.AllowedAt);
        }

        return new AdmissionDecision(null, request.Emergency ? "admitted as an emergency" : "admitted",
            AwaitsChecklist: request.Rules is { Checklist.IsEmpty: false },
            AwaitsApproval: request.Rules?.Approvals is not null,
            Emergency: request.Emergency);
    }

    /// <summary>Why the calendar keeps deploys out of the environment now (a declared freeze, then the manifest's freezes and windows), or null.</summary>
    public static AdmissionDecision? Calendar(AdmissionRequest request)
    {
        if (request.DeclaredFreezes.LastOrDefault(f => f.IsActive(request.Now)) is { } declared)
        {
            var until = declared.Until is { } u
                ? string.Create(CultureInfo.InvariantCulture, $"until {u:yyyy-MM-dd HH:mm} UTC")
                : $"until lifted (gantry unfreeze {request.Environment})";
            return Refuse(AdmissionRule.DeclaredFreeze, string.Create(CultureInfo.InvariantCulture,
                $"deploys to {request.Environment} are frozen by {declared.By} since {declared.At:yyyy-MM-dd HH:mm} UTC ({declared.Reason}), {until}"), declared.Until);
        }

        if (request.Rules is not { } rules || DeployCalendar.Check(rules, request.Now) is not { Allowed: false } verdict)
        {
            return null;
        }

        return Refuse(verdict.Rule == "freeze" ? AdmissionRule.Freeze : AdmissionRule.Window, verdict.Message, verdict.NextAllowed);
    }

    private static AdmissionDecision Refuse(AdmissionRule rule, string message, DateTimeOffset? next = null) => new(rule, message, next);
}

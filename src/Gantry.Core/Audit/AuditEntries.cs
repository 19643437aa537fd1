using System.Globalization;
using Gantry.Core.Access;
using Gantry.Core.Approvals;
using Gantry.Core.Checklists;
using Gantry.Core.Gates;
using Gantry.Core.Incidents;
using Gantry.Core.Policies;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;

namespace Gantry.Core.Audit;

/// <summary>What one audit record says: the action, what it acted on, and a sentence for a person.</summary>
public sealed record AuditEntry(string Action, string Target, string Detail);

/// <summary>
/// How each change is written in the audit trail, the same whichever store keeps it: the action's name, the
/// target (service/environment/rollout for what belongs to a rollout, so an audit of a service finds it) and the detail.
/// </summary>
public static class AuditEntries
{
    /// <summary>Where a rollout's records are filed.</summary>
    public static string TargetOf(RolloutState rollout) => $"{rollout.Service}/{rollout.Environment}/{rollout.Id}";

    public static AuditEntry RolloutEvent(RolloutState rollout, RolloutEvent e) => new($"rollout.{e.Type}", TargetOf(rollout), e.Message);

    public static AuditEntry QueueRemoved(long id, string service, string environment, string version, string? why, string actor) =>
        new("queue.removed", string.Create(CultureInfo.InvariantCulture, $"{service}/{environment}/queue-{id}"),
            string.Create(CultureInfo.InvariantCulture, $"queued deploy #{id} of {service} {version} to {environment} removed: {why ?? "cancelled by " + actor}"));

    public static AuditEntry TokenCreated(ApiToken token)
    {
        var groups = token.Groups.IsEmpty ? string.Empty : $"; groups {string.Join(", ", token.Groups)}";
        var environments = token.Environments.IsEmpty ? "; every environment" : $"; environments {string.Join(", ", token.Environments)}";
        var expiry = token.ExpiresAt is { } e ? string.Create(CultureInfo.InvariantCulture, $"; expires {e.UtcDateTime:yyyy-MM-dd HH:mm}Z") : "; no expiry";
        return new("token.created", $"token/{token.Id}", $"token {token.Id} for {token.Identity}: roles {string.Join(", ", token.Roles.Select(RoleNames.Of))}{groups}{environments}{expiry}");
    }

    /// <summary>The router process was found dead and started again, serving its last table after <paramref name="gap"/>.</summary>
    public static AuditEntry RouterRestarted(int? oldPid, int newPid, TimeSpan gap, long tableVersion) =>
        new("router.restarted", "router", string.Create(CultureInfo.InvariantCulture,
            $"the router{(oldPid is { } p ? $" (pid {p})" : string.Empty)} stopped; pid {newPid} serves table version {tableVersion} again after {gap.TotalMilliseconds:0} ms"));

    /// <summary>Instances no rollout wants any more (their service left the manifest) were drained and stopped.</summary>
    public static AuditEntry OrphansStopped(string service, string environment, string set, int instances) =>
        new("instances.orphaned", $"{service}/{environment}", string.Create(CultureInfo.InvariantCulture,
            $"{instances} instance(s) of {service} {set} in {environment}, which no rollout wants, drained and stopped"));

    /// <summary>A backup of the store was written (<paramref name="what"/>: sent to a caller of the API, or a scheduled one's file).</summary>
    public static AuditEntry StoreBackedUp(string what, long bytes) =>
        new("store.backup", "store", string.Create(CultureInfo.InvariantCulture, $"{what} ({bytes} bytes)"));

    /// <summary>The store was restored from a backup (recorded in the restored store, after what the backup held).</summary>
    public static AuditEntry StoreRestored(string file, long rollouts, long auditEvents) =>
        new("store.restored", "store", string.Create(CultureInfo.InvariantCulture, $"restored from backup {file} ({rollouts} rollouts, {auditEvents} audit events)"));

    public static AuditEntry TokenRevoked(string id) => new("token.revoked", $"token/{id}", $"revoked token {id}");

    /// <summary>An approval or a rejection, filed with the rollout (<paramref name="target"/> as <see cref="TargetOf"/> gives it, or the rollout's id).</summary>
    public static AuditEntry Approval(ApprovalRecord approval, string target) =>
        new(approval.Decision == ApprovalDecision.Approved ? "rollout.approved" : "rollout.rejected", target, approval.Describe());

    public static AuditEntry SignedOff(SignOff signOff, string target) => new("checklist.signed", target, $"signed off '{signOff.Item}'");

    public static AuditEntry Frozen(DeclaredFreeze freeze) => new("environment.frozen", freeze.Environment,
        freeze.Until is { } until ? string.Create(CultureInfo.InvariantCulture, $"deploys frozen until {until:yyyy-MM-dd HH:mm} UTC") : "deploys frozen until lifted");

    public static AuditEntry Unfrozen(DeclaredFreeze freeze) => new("environment.unfrozen", freeze.Environment, $"lifted the freeze of {freeze.By} ({freeze.Reason})");

    public static AuditEntry GateEvaluated(GateEvaluation evaluation) => new("gate.evaluated", $"{evaluation.Service}/{evaluation.Version}",
        string.Create(CultureInfo.InvariantCulture, $"gate {evaluation.Gate}: {evaluation.Decision.ToString().ToUpperInvariant()} (score {evaluation.Score:0.#}): {evaluation.Reason}"));

    public static AuditEntry GateOverridden(string service, string version, string gate, string reason) =>
        new("gate.overridden", $"{service}/{version}", $"gate {gate}: REMEDIATE overridden ({reason})");

    public static AuditEntry IncidentOpened(Incident opened) => new("incident.opened", opened.Key,
        $"{opened.Severity} {opened.Title}" + (opened.Service is null ? string.Empty : $" ({opened.Service} in {opened.Environment})"));

    public static AuditEntry MaintenanceOn(Traffic.Maintenance m) => new("maintenance.on", $"{m.Service}/{m.Environment}", $"maintenance on: {m.Message}");

    public static AuditEntry MaintenanceOff(Traffic.Maintenance m) => new("maintenance.off", $"{m.Service}/{m.Environment}", $"maintenance off (on since {m.Since.UtcDateTime:yyyy-MM-dd HH:mm} UTC, by {m.By})");

    public static AuditEntry TrafficPaused(Traffic.TrafficPause p) =>
        new("traffic.paused", $"{p.Service}/{p.Environment}", string.Create(CultureInfo.InvariantCulture, $"new requests held, each up to {p.MaxWait.TotalSeconds:0.###} s"));

    public static AuditEntry TrafficResumed(Traffic.TrafficPause p) =>
        new("traffic.resumed", $"{p.Service}/{p.Environment}", $"held requests released (paused since {p.Since.UtcDateTime:yyyy-MM-dd HH:mm} UTC, by {p.By})");

    public static AuditEntry IncidentStep(string action, Incident incident, TimelineEntry entry) => new(action, incident.Key, entry.Text);
}

using System.Globalization;
using Gantry.Core.Manifest;

namespace Gantry.Core.Incidents;

/// <summary>An incident as asked to be opened: by a rollout (with its cause) or by hand.</summary>
public sealed record IncidentRequest(string Title, Severity Severity, string? Service, string? Environment, string? RolloutId, string? CauseVersion, string? Impact);

/// <summary>The pure rules of incidents: the severity of one opened by a rollout, the life cycle, and escalation.</summary>
public static class IncidentRules
{
    /// <summary>The first rule whose conditions all hold, else the policy's default severity.</summary>
    public static Severity SeverityFor(IncidentPolicy policy, string environment, IncidentCause cause, int trafficPercent) =>
        policy.Rules.FirstOrDefault(r =>
            (r.Environment is null || r.Environment == environment)
            && (r.Cause is null || r.Cause == cause)
            && (r.TrafficAbove is not { } above || trafficPercent > above.Percent))?.Severity
        ?? policy.DefaultSeverity;

    /// <summary>Moves an incident forward (open, acknowledged, mitigated, resolved; steps may be skipped, never undone).</summary>
    public static (Incident? Moved, string? Refusal) Move(Incident incident, IncidentStatus to, string by, DateTimeOffset now)
    {
        if (to <= incident.Status)
        {
            return (null, $"{incident.Key} is already {incident.Status.ToString().ToLowerInvariant()}: an incident only moves forward (open, acknowledged, mitigated, resolved)");
        }

        var moved = incident with { Status = to, Revision = incident.Revision + 1 };
        // Reaching a later state implies the earlier ones, at the same moment, by the same person.
        if (incident.AcknowledgedAt is null)
        {
            moved = moved with { AcknowledgedAt = now, AcknowledgedBy = by };
        }

        if (to >= IncidentStatus.Mitigated && incident.MitigatedAt is null)
        {
            moved = moved with { MitigatedAt = now, MitigatedBy = by };
        }

        if (to == IncidentStatus.Resolved)
        {
            moved = moved with { ResolvedAt = now, ResolvedBy = by };
        }

        return (moved, null);
    }

    /// <summary>
    /// The escalation level an unacknowledged incident should reach now (1-based; levels reached in order, each
    /// <see cref="EscalationLevel.After"/> the previous one), or null when none is due.
    /// </summary>
    public static int? DueLevel(IncidentPolicy policy, Incident incident, DateTimeOffset now)
    {
        if (incident.Status != IncidentStatus.Open || incident.EscalationLevel >= policy.Escalation.Count)
        {
            return null;
        }

        var next = policy.Escalation[incident.EscalationLevel];
        var since = incident.EscalatedAt ?? incident.OpenedAt;
        return now >= since + next.After ? incident.EscalationLevel + 1 : null;
    }

    /// <summary>When the next escalation falls due, if one can.</summary>
    public static DateTimeOffset? NextEscalationAt(IncidentPolicy policy, Incident incident) =>
        incident.Status != IncidentStatus.Open || incident.EscalationLevel >= policy.Escalation.Count
            ? null
            : (incident.EscalatedAt ?? incident.OpenedAt) + policy.Escalation[incident.EscalationLevel].After;

    /// <summary>How an incident stands against its severity's targets, in words.</summary>
    public static string Targets(IncidentPolicy policy, Incident incident, DateTimeOffset now)
    {
        var targets = policy.TargetsOf(incident.Severity);
        var respondBy = incident.OpenedAt + targets.Respond;
        var resolveBy = incident.OpenedAt + targets.Resolve;
        var respond = incident.AcknowledgedAt is { } ack
            ? (ack <= respondBy ? "responded in time" : $"responded late (target {Format(targets.Respond)})")
            : now > respondBy ? $"response overdue since {respondBy.UtcDateTime:yyyy-MM-dd HH:mm}Z" : $"respond by {respondBy.UtcDateTime:yyyy-MM-dd HH:mm}Z";
        var resolve = incident.ResolvedAt is { } done
            ? (done <= resolveBy ? "resolved in time" : $"resolved late (target {Format(targets.Resolve)})")
            : now > resolveBy ? $"resolution overdue since {resolveBy.UtcDateTime:yyyy-MM-dd HH:mm}Z" : $"resolve by {resolveBy.UtcDateTime:yyyy-MM-dd HH:mm}Z";
        return string.Create(CultureInfo.InvariantCulture, $"{respond}; {resolve}");
    }

    private static string Format(TimeSpan t) => Manifest.Values.DurationSyntax.Format(t);
}

/// <summary>A query of incidents.</summary>
public sealed record IncidentQuery(string? Service = null, string? Environment = null, bool OpenOnly = false, DateTimeOffset? Since = null, int Limit = 100);

/// <summary>Where incidents and their timelines are kept; every change is audited in its transaction.</summary>
public interface IIncidentStore
{
    /// <summary>
    /// Opens an incident (its id assigned) with the first entries of its timeline, and the notifications
    /// <paramref name="notify"/> makes of it, in one transaction: opened and, when the first level of escalation
    /// waits for nothing, paged (an <c>escalated</c> entry, audited as <c>incident.escalated</c>).
    /// </summary>
    Task<Incident> OpenIncidentAsync(Incident incident, IReadOnlyList<TimelineEntry> timeline, Audit.AuditContext who, CancellationToken ct, Func<Incident, IReadOnlyList<Notifications.Outbox>>? notify = null);

    /// <summary>Saves a changed incident, with its notification, if nobody changed it meanwhile; false on a conflict.</summary>
    Task<bool> SaveIncidentAsync(Incident incident, long expectedRevision, IReadOnlyList<TimelineEntry> timeline, Audit.AuditContext who, string action, CancellationToken ct, Notifications.Outbox? notify = null);

    Task<Incident?> IncidentAsync(long id, CancellationToken ct);

    Task<IReadOnlyList<Incident>> IncidentsAsync(IncidentQuery query, CancellationToken ct);

    Task<IReadOnlyList<TimelineEntry>> TimelineAsync(long id, CancellationToken ct);

    /// <summary>The incident a rollout opened, if it did.</summary>
    Task<Incident?> IncidentOfRolloutAsync(string rolloutId, CancellationToken ct);
}

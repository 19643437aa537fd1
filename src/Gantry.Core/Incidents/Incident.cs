using System.Globalization;

namespace Gantry.Core.Incidents;

/// <summary>How bad: P0 (everyone, now) to P3 (next working day).</summary>
public enum Severity
{
    P0,
    P1,
    P2,
    P3,
}

/// <summary>Where an incident is in its life; it only moves forward.</summary>
public enum IncidentStatus
{
    Open,
    Acknowledged,
    Mitigated,
    Resolved,
}

/// <summary>How fast an incident of a severity must be acknowledged and resolved.</summary>
public sealed record SeverityTargets(TimeSpan Respond, TimeSpan Resolve)
{
    /// <summary>The defaults: P0 15 min / 1 h, P1 1 h / 4 h, P2 4 h / 24 h, P3 24 h / 72 h.</summary>
    public static SeverityTargets Default(Severity severity) => severity switch
    {
        Severity.P0 => new(TimeSpan.FromMinutes(15), TimeSpan.FromHours(1)),
        Severity.P1 => new(TimeSpan.FromHours(1), TimeSpan.FromHours(4)),
        Severity.P2 => new(TimeSpan.FromHours(4), TimeSpan.FromHours(24)),
        _ => new(TimeSpan.FromHours(24), TimeSpan.FromHours(72)),
    };
}

/// <summary>One entry of an incident's timeline: what happened, when, by whom, linking the rollout and its evidence.</summary>
public sealed record TimelineEntry(DateTimeOffset At, string Kind, string By, string Text, string? RolloutId = null);

/// <summary>
/// An incident: what, how bad, which service and environment, the release that caused it (so that change
/// failure rate is exact), who moved it through its life and when, and how far it has escalated.
/// </summary>
public sealed record Incident(
    long Id,
    string Title,
    Severity Severity,
    IncidentStatus Status,
    string? Service,
    string? Environment,
    string? RolloutId,
    string? CauseVersion,
    string? Impact,
    DateTimeOffset OpenedAt,
    string OpenedBy,
    DateTimeOffset? AcknowledgedAt = null,
    string? AcknowledgedBy = null,
    DateTimeOffset? MitigatedAt = null,
    string? MitigatedBy = null,
    DateTimeOffset? ResolvedAt = null,
    string? ResolvedBy = null,
    int EscalationLevel = 0,
    DateTimeOffset? EscalatedAt = null,
    long Revision = 1)
{
    public string Key => string.Create(CultureInfo.InvariantCulture, $"INC-{Id}");

    public bool IsOpen => Status != IncidentStatus.Resolved;

    /// <summary>From opened to resolved (null while open): what time to restore is the median of.</summary>
    public TimeSpan? TimeToRestore => ResolvedAt - OpenedAt;
}

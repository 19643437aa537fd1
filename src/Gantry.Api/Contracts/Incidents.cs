using Gantry.Core.Incidents;

namespace Gantry.Api;

/// <summary>An incident opened by hand.</summary>
public sealed record OpenIncidentRequest(string? Title, string? Severity, string? Service = null, string? Environment = null, string? Release = null, string? Impact = null);

/// <summary>A step of an incident's life: who says so is the caller; a note for the timeline.</summary>
public sealed record IncidentStepRequest(string? Note = null);

/// <summary>An incident as shown: the record, its timeline, and how it stands against its targets.</summary>
public sealed record IncidentView(Incident Incident, IReadOnlyList<TimelineEntry> Timeline, string Targets, DateTimeOffset? NextEscalationAt, string? NextLevel);

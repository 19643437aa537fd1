using Gantry.Core.Incidents;
using Gantry.Core.Notifications;

namespace Gantry.Server.Incidents;

/// <summary>Who tells people of incident changes: the notifications, written in the change's transaction so a crash cannot lose them.</summary>
public interface IIncidentNotifier
{
    /// <summary>
    /// The notification of an incident change worth telling (incident.opened, incident.escalated, ...; with the
    /// level's receivers when escalating), or null when nobody is to be told.
    /// </summary>
    Outbox? ForIncident(string kind, Incident incident, IReadOnlyList<string> levelReceivers);

    /// <summary>Called after a change whose notification was queued.</summary>
    void Queued();
}

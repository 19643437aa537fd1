using Gantry.Core.Manifest;

namespace Gantry.Core.Incidents;

/// <summary>One alert as Alertmanager sends it: firing or resolved, its labels and annotations, and its fingerprint.</summary>
public sealed record ReceivedAlert(string Status, IReadOnlyDictionary<string, string> Labels, IReadOnlyDictionary<string, string> Annotations, string Fingerprint, DateTimeOffset? StartsAt)
{
    public bool Firing => string.Equals(Status, "firing", StringComparison.OrdinalIgnoreCase);

    public string Name => Labels.TryGetValue("alertname", out var name) ? name : "alert";

    /// <summary>The annotation a person reads first: summary, else description, else the alert's name.</summary>
    public string Summary => Annotations.TryGetValue("summary", out var summary) ? summary : Annotations.TryGetValue("description", out var description) ? description : Name;
}

/// <summary>Where an alert belongs and what it asks: the service and environment, the incident's severity, and how recent a release it rolls back.</summary>
public sealed record AlertDecision(string Service, string Environment, Severity Severity, TimeSpan? RollbackWithin, int? Rule);

/// <summary>The pure rules of alert intake: labels to a service and environment, the first matching rule to a severity and a rollback.</summary>
public static class AlertRouting
{
    /// <summary>The decision for <paramref name="alert"/>, or why it is left alone (no service label, an unknown service or environment).</summary>
    public static (AlertDecision? Decision, string? Ignored) Route(GantryManifest manifest, ReceivedAlert alert)
    {
        var intake = manifest.IncidentPolicy.Alerts;
        if (!alert.Labels.TryGetValue(intake.ServiceLabel, out var service) || string.IsNullOrWhiteSpace(service))
        {
            return (null, $"{alert.Name}: no '{intake.ServiceLabel}' label names a service");
        }

        if (manifest.FindService(service) is null)
        {
            return (null, $"{alert.Name}: there is no service '{service}' in the manifest");
        }

        var environment = alert.Labels.TryGetValue(intake.EnvironmentLabel, out var named) && !string.IsNullOrWhiteSpace(named)
            ? named
            : EffectiveService.DefaultEnvironmentOf(manifest);
        if (manifest.Environments.IsEmpty ? environment != EffectiveService.DefaultEnvironmentOf(manifest) : manifest.FindEnvironment(environment) is null)
        {
            return (null, $"{alert.Name}: there is no environment '{environment}' in the manifest");
        }

        var index = intake.Rules.Select((r, i) => (r, i)).FirstOrDefault(x => x.r.Match.All(m => alert.Labels.TryGetValue(m.Key, out var v) && v == m.Value));
        var rule = index.r;
        return (new AlertDecision(service, environment, rule?.Severity ?? manifest.IncidentPolicy.DefaultSeverity, rule?.RollbackWithin, rule is null ? null : index.i + 1), null);
    }
}

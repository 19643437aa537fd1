namespace Gantry.Api;

/// <summary>Prometheus Alertmanager's webhook body (version 4): a group of alerts, firing or resolved.</summary>
public sealed record AlertmanagerWebhook(
    string? Version = null,
    string? Status = null,
    string? Receiver = null,
    IReadOnlyList<AlertmanagerAlert>? Alerts = null,
    string? GroupKey = null,
    IReadOnlyDictionary<string, string>? GroupLabels = null,
    IReadOnlyDictionary<string, string>? CommonLabels = null,
    IReadOnlyDictionary<string, string>? CommonAnnotations = null,
    string? ExternalURL = null,
    int TruncatedAlerts = 0);

/// <summary>One alert of a webhook body.</summary>
public sealed record AlertmanagerAlert(
    string? Status = null,
    IReadOnlyDictionary<string, string>? Labels = null,
    IReadOnlyDictionary<string, string>? Annotations = null,
    DateTimeOffset? StartsAt = null,
    DateTimeOffset? EndsAt = null,
    string? GeneratorURL = null,
    string? Fingerprint = null);

/// <summary>What Gantry did with each alert: the incident it opened or added to, the rollout it started or aborted, or why it left it alone.</summary>
public sealed record AlertOutcome(string Alert, string Status, string? Service, string? Environment, long? Incident, string Action, string? Rollout = null);

/// <summary>The answer to a webhook: one outcome per alert, in order.</summary>
public sealed record AlertIntakeAnswer(IReadOnlyList<AlertOutcome> Alerts);

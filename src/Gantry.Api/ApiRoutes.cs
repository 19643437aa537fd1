namespace Gantry.Api;

/// <summary>
/// Every path of the REST API, as route templates relative to <see cref="Base"/>. The server maps these; the
/// typed client fills them in (<c>Fill</c>). Nothing else writes an API path.
/// </summary>
public static class ApiRoutes
{
    public const string Base = "/api/v1";

    // Services and rollouts.
    public const string Services = "/services";
    public const string ServiceReleases = "/services/{service}/releases";
    public const string ServiceRollout = "/services/{service}/rollout";
    public const string ServiceCommand = "/services/{service}/{command}";
    public const string ServiceRollback = "/services/{service}/rollback";
    public const string ServiceLogs = "/services/{service}/logs";
    public const string ServiceMaintenance = "/services/{service}/maintenance";
    public const string ServicePause = "/services/{service}/pause";
    public const string Rollouts = "/rollouts";
    public const string Rollout = "/rollouts/{id}";
    public const string RolloutCommand = "/rollouts/{id}/{command}";
    public const string RolloutAnalysis = "/rollouts/{id}/analysis";
    public const string RolloutEvents = "/rollouts/{id}/events";
    public const string RolloutChecklist = "/rollouts/{id}/checklist";
    public const string RolloutSignOff = "/rollouts/{id}/checklist/{item}/signoff";
    public const string RolloutApproval = "/rollouts/{id}/approval";
    public const string Instances = "/instances";
    public const string Queue = "/queue";
    public const string QueueEntry = "/queue/{id}";
    public const string Events = "/events";

    // Governance.
    public const string WhoAmI = "/whoami";
    public const string Cluster = "/cluster";
    public const string Tokens = "/tokens";
    public const string Token = "/tokens/{id}";
    public const string Approvals = "/approvals";
    public const string EnvironmentFreeze = "/environments/{environment}/freeze";
    public const string Audit = "/audit";
    public const string AuditVerify = "/audit/verify";
    public const string AuditExport = "/audit/export";
    public const string Backup = "/backup";
    public const string GateEvaluations = "/gates/evaluations";
    public const string GateOverrides = "/gates/overrides";

    // Incidents.
    public const string Incidents = "/incidents";
    public const string Alerts = "/alerts";
    public const string IncidentById = "/incidents/{id}";
    public const string IncidentStep = "/incidents/{id}/{step}";
    public const string IncidentPostmortem = "/incidents/{id}/postmortem";
    public const string Dora = "/dora";
    public const string Slos = "/slos";
    public const string Notifications = "/notifications";

    /// <summary>The commands a rollout (or a service's newest rollout) takes by POST.</summary>
    public static IReadOnlyList<string> RolloutCommands { get; } = ["promote", "abort", "pause", "resume", "retry"];

    /// <summary>The decisions on an approval, by POST to the rollout.</summary>
    public static IReadOnlyList<string> ApprovalDecisions { get; } = ["approve", "reject"];

    /// <summary>The steps of an incident's life, by POST to the incident.</summary>
    public static IReadOnlyList<string> IncidentSteps { get; } = ["acknowledge", "mitigate", "resolve"];

    /// <summary>
    /// The absolute path of <paramref name="template"/> with its {names} replaced, in order, by the escaped values,
    /// and the query parameters that have a value appended.
    /// </summary>
    public static string Fill(string template, IReadOnlyList<string> values, params (string Name, string? Value)[] query)
    {
        var path = new System.Text.StringBuilder(Base);
        var next = 0;
        for (var i = 0; i < template.Length; i++)
        {
            if (template[i] != '{')
            {
                path.Append(template[i]);
                continue;
            }

            var end = template.IndexOf('}', i);
            path.Append(Uri.EscapeDataString(values[next++]));
            i = end;
        }

        if (next != values.Count)
        {
            throw new ArgumentException($"{template} takes {next} values, not {values.Count}", nameof(values));
        }

        var separator = '?';
        foreach (var (name, value) in query)
        {
            if (value is not null)
            {
                path.Append(separator).Append(name).Append('=').Append(Uri.EscapeDataString(value));
                separator = '&';
            }
        }

        return path.ToString();
    }

    public static string Fill(string template, params (string Name, string? Value)[] query) => Fill(template, [], query);
}

namespace Gantry.Core.Manifest;

/// <summary>When a job runs in a rollout's life.</summary>
public enum JobHook
{
    /// <summary>Before any instance of the new release starts (a backup, a migration); a failure stops the rollout.</summary>
    PreDeploy,

    /// <summary>Once the new release's first instances are ready, before they get traffic (smoke tests); a failure aborts.</summary>
    PreTraffic,

    /// <summary>Once all traffic is on the new release; a failure counts as a failed watch.</summary>
    PostPromotion,

    /// <summary>After the rollout was aborted or failed.</summary>
    OnAbort,

    /// <summary>After the release was rolled back (by its watch, or by a rollback rollout).</summary>
    OnRollback,
}

/// <summary>How a hook is written where people read it: the manifest's key (<c>preDeploy</c>), in events, status and a job's <c>GANTRY_HOOK</c>.</summary>
public static class JobHooks
{
    public static string ManifestName(this JobHook hook) => hook switch
    {
        JobHook.PreDeploy => "preDeploy",
        JobHook.PreTraffic => "preTraffic",
        JobHook.PostPromotion => "postPromotion",
        JobHook.OnAbort => "onAbort",
        _ => "onRollback",
    };
}

/// <summary>
/// A named one-shot command run at a hook point of a rollout, on the control plane's machine, with the release's facts
/// in its environment (<c>GANTRY_SERVICE</c>, <c>GANTRY_VERSION</c>, ...); with <see cref="Image"/>, a container of the
/// Docker engine instead (its <see cref="Args"/> the container's arguments). It is tried up to <see cref="Retries"/> more
/// times; each try may run for <see cref="Timeout"/>.
/// </summary>
public sealed record JobSpec(string Name, JobHook At, ValueList<string> Args, bool Shell, ValueList<KeyValuePair<string, string>> Env, TimeSpan Timeout, int Retries, string? Image = null)
{
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromMinutes(5);
}

/// <summary>What a failed watch does.</summary>
public enum WatchFailureAction
{
    /// <summary>All traffic back to the previous release at once (it was kept running for the watch).</summary>
    Rollback,

    /// <summary>The release stays; an incident is opened for it.</summary>
    Incident,

    /// <summary>The release stays; the rollout pauses for a person (abort rolls back, resume watches again).</summary>
    Hold,
}

/// <summary>
/// Watching a release after it took all traffic, for every strategy: the analysis templates run for <see cref="For"/>
/// while the previous release is kept running out of traffic, so a rollback is instant.
/// </summary>
public sealed record WatchSpec(TimeSpan For, ValueList<string> Templates, WatchFailureAction OnFailure);

/// <summary>What an objective counts as a good request: one answered without a server error, or one answered in time.</summary>
public enum SliKind
{
    /// <summary>Good: answered, and not with a 5xx (an error rate objective is an availability of 1 minus the rate).</summary>
    Availability,

    /// <summary>Good: answered within <see cref="SloSpec.Threshold"/> (99% within 300ms is a p99 of 300ms).</summary>
    Latency,
}

/// <summary>
/// A multiwindow burn-rate alert (Google SRE workbook): it fires while the error budget burns at least
/// <see cref="BurnRate"/> times as fast as the objective allows over both <see cref="LongWindow"/> and <see cref="ShortWindow"/>.
/// </summary>
public sealed record BurnRateAlert(TimeSpan LongWindow, TimeSpan ShortWindow, double BurnRate, Incidents.Severity Severity);

/// <summary>
/// A standing service level objective of a running service, evaluated from the router's measurements: the share of
/// good requests over <see cref="Period"/> should be at least <see cref="Objective"/> (a fraction). A firing alert opens
/// an incident with its severity and, with <see cref="RollbackWithin"/>, rolls back a release promoted that recently.
/// </summary>
public sealed record SloSpec(string Name, SliKind Sli, double Objective, TimeSpan Period, TimeSpan? Threshold, ValueList<BurnRateAlert> Alerts, TimeSpan? RollbackWithin)
{
    /// <summary>The SRE workbook's two paging alerts for a 30-day objective: 2% of the budget in an hour, 5% in six hours.</summary>
    public static ValueList<BurnRateAlert> DefaultAlerts(Incidents.Severity severity) =>
    [
        new(TimeSpan.FromHours(1), TimeSpan.FromMinutes(5), 14.4, severity),
        new(TimeSpan.FromHours(6), TimeSpan.FromMinutes(30), 6, severity),
    ];

    /// <summary>The error budget: the share of requests that may be bad.</summary>
    public double Budget => 1 - Objective;
}

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

/// <summary>
/// A named one-shot command run at a hook point of a rollout, on the control plane's machine, with the release's facts
/// in its environment (<c>GANTRY_SERVICE</c>, <c>GANTRY_VERSION</c>, ...). It is tried up to <see cref="Retries"/> more
/// times; each try may run for <see cref="Timeout"/>.
/// </summary>
public sealed record JobSpec(string Name, JobHook At, ValueList<string> Args, bool Shell, ValueList<KeyValuePair<string, string>> Env, TimeSpan Timeout, int Retries)
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

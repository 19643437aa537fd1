using Gantry.Core.Manifest;

namespace Gantry.Core.Rollouts;

/// <summary>Where a rollout is in its life. The last four are terminal.</summary>
public enum RolloutPhase
{
    Pending,

    /// <summary>Checklist passed (or none); waits for the approvals its environment requires.</summary>
    AwaitingApproval,
    Progressing,
    Paused,
    Analyzing,
    Promoting,

    /// <summary>The release has all traffic and is watched (analysis, post-promotion jobs, its health) with the previous release kept.</summary>
    Watching,
    Succeeded,
    Aborted,
    RolledBack,
    Failed,
}

public enum RolloutKind
{
    /// <summary>A new release, moved in by the service's strategy.</summary>
    Deploy,

    /// <summary>Back to an earlier release after a success: instant when its instances still run.</summary>
    Rollback,
}

/// <summary>Which strategy moves the release in.</summary>
public enum StrategyKind
{
    Initial,
    Rolling,
    BlueGreen,
    Canary,
    Rollback,
}

/// <summary>The role of a set of instances in the traffic split.</summary>
public enum SetRole
{
    /// <summary>Serves the stable share of the traffic.</summary>
    Stable,

    /// <summary>The new release: the canary share, the preview listener, or the new half of a rolling update.</summary>
    Canary,

    /// <summary>Out of traffic; kept running until <see cref="InstanceSet.RemoveAt"/> (drain, scale-down delay).</summary>
    Retired,

    /// <summary>A fresh set of the stable release at the canary's size and weight, the like-for-like baseline for analysis.</summary>
    Baseline,
}

public static class RolloutPhaseExtensions
{
    public static bool IsTerminal(this RolloutPhase phase) =>
        phase is RolloutPhase.Succeeded or RolloutPhase.Aborted or RolloutPhase.RolledBack or RolloutPhase.Failed;

    /// <summary>
    /// Ended with nothing left to do on its own: no job to run, no analysis going on, no set out of traffic waiting
    /// for its time to be stopped. The engine decides nothing new for such a rollout unless it, its instances or the
    /// traffic switches change, so the reconciler need not look at it on every tick.
    /// </summary>
    public static bool IsAtRest(this RolloutState state) =>
        state.Phase.IsTerminal() && !state.IsWaiting && state.Job is null
        && state.Analysis is null or { Completed: true } && state.Background is null or { Completed: true }
        && !state.Sets.Any(s => s.Role == SetRole.Retired);
}

/// <summary>A version of a service: what <c>{version}</c> expands to, the variables given with <c>--set</c>, and where it came from.</summary>
public sealed record Release(string Version, ValueList<KeyValuePair<string, string>> Variables, string? CommitSha = null, DateTimeOffset? CommitTime = null)
{
    /// <summary>What a secret variable's value is shown as.</summary>
    public const string Hidden = "********";

    public static Release Of(string version) => new(version, []);

    /// <summary>The names of the variables whose values are secret: passed to the instances, never shown (API, CLI, audit, logs).</summary>
    public ValueList<string> Secret { get; init; } = [];

    /// <summary>The release as it may be shown: secret values replaced by <see cref="Hidden"/>.</summary>
    public Release Redacted() => Secret.IsEmpty
        ? this
        : this with { Variables = [.. Variables.Select(v => Secret.Contains(v.Key) ? new KeyValuePair<string, string>(v.Key, Hidden) : v)] };

    /// <summary>
    /// Whether instances of both releases would run the same way: the same version, the same variables and the
    /// same secret names. Secret values are not compared, so no answer ever depends on them.
    /// </summary>
    public bool SameConfiguration(Release other) => Version == other.Version && Identity == other.Identity;

    /// <summary>What identifies the configuration: version, visible variables, secret names (never their values).</summary>
    public string Identity => string.Join('\n', new[] { Version }
        .Concat(Variables.Where(v => !Secret.Contains(v.Key)).OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}={v.Value}"))
        .Concat(Secret.Order(StringComparer.Ordinal).Select(k => $"{k}=<secret>")));

    /// <summary>
    /// The name of a set of this release beside another set of the same version with other variables, like a
    /// pod-template hash: the version and 8 hex digits of the SHA-256 of <see cref="Identity"/>.
    /// </summary>
    public string ConfigurationKey => $"{Version}~{Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(Identity)))[..8]}";
}

/// <summary>
/// Instances of one release that should run. Only the first <see cref="Routed"/> of them (by index) may
/// receive traffic, so an instance is taken out of the router, drained, and only then stopped. A set is
/// known by its <see cref="Key"/>: the version, or <see cref="Name"/> for a second set of a version (a fresh baseline).
/// </summary>
public sealed record InstanceSet(Release Release, SetRole Role, int Replicas, int Routed, DateTimeOffset? RemoveAt = null, string? Name = null)
{
    public string Version => Release.Version;

    /// <summary>What the runtime, the router's backend group and observations know the set by.</summary>
    public string Key => Name ?? Version;

    /// <summary>The name of a fresh baseline set of <paramref name="version"/>; never a version (versions have no '~').</summary>
    public static string BaselineName(string version) => $"{version}~baseline";
}

/// <summary>What the router should do: the canary's share, header routes and mirror; with <see cref="Proportional"/>, shares follow ready instances.</summary>
public sealed record TrafficState(int CanaryWeight, ValueList<RouteMatch> HeaderRoute, int MirrorPercent, ValueList<RouteMatch> MirrorMatch, bool Preview, bool Proportional, int BaselineWeight = 0)
{
    public static TrafficState AllStable { get; } = new(0, [], 0, [], false, false);
}

/// <summary>
/// An analysis the strategy waits for, identified by <see cref="Key"/> so that a retry starts a new run.
/// A background analysis that reached its count and passed stays <see cref="Completed"/> so it is not started again.
/// </summary>
public sealed record AnalysisRequest(string Key, ValueList<string> Templates, string Purpose, bool Completed = false)
{
    public const string BackgroundPurpose = "background";

    /// <summary>The purpose of the run of a watch after promotion: like a background run, it measures until the window ends.</summary>
    public const string WatchPurpose = "watch";

    /// <summary>Measures with no count of its own until the rollout (or its watch) ends.</summary>
    public bool IsBackground => Purpose is BackgroundPurpose or WatchPurpose;
}

/// <summary>
/// The durable state of a rollout: the world it wants (sets of instances and the traffic split) and where
/// it is in its strategy. Immutable; every change is a new record with a higher <see cref="Revision"/>.
/// <see cref="Waits"/> says why it does not move on by itself (named reasons, none when it moves);
/// <see cref="ChecklistGated"/> that it started behind its environment's checklist (a retry waits for it again);
/// <see cref="Stage"/> where a blue-green rollout is; <see cref="Gradual"/> the steps of a rollback that moves traffic
/// back in steps (<see cref="Step"/> counts them); <see cref="WatchUntil"/> when the watch after promotion ends;
/// <see cref="Job"/> the jobs it waits for and <see cref="Jobs"/> how every job it ran ended.
/// </summary>
public sealed record RolloutState(
    string Id,
    string Service,
    string Environment,
    RolloutKind Kind,
    StrategyKind Strategy,
    Release Release,
    string? PreviousVersion,
    RolloutPhase Phase,
    int Step,
    string Message,
    ValueList<InstanceSet> Sets,
    TrafficState Traffic,
    AnalysisRequest? Analysis,
    ValueList<WaitReason> Waits,
    int Attempt,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset LastProgressAt,
    DateTimeOffset? StepUntil,
    DateTimeOffset? FinishedAt,
    long Revision,
    bool Emergency = false,
    string? CreatedBy = null,
    AnalysisRequest? Background = null,
    bool ChecklistGated = false,
    string? EmergencyReason = null,
    string? ReleaseKey = null,
    string? PreviousKey = null,
    BlueGreenStage? Stage = null,
    GradualRollback? Gradual = null,
    DateTimeOffset? WatchUntil = null,
    JobRequest? Job = null)
{
    /// <summary>How every job of the rollout ended, in order.</summary>
    public ValueList<JobOutcome> Jobs { get; init; } = [];

    /// <summary>
    /// All traffic was switched at the end of the rollout (a promotion, a rollback): it succeeds with this message once
    /// the router is seen routing the new split, so a client told it succeeded meets the version it was told of.
    /// </summary>
    public string? SucceedsOnceRouted { get; init; }

    /// <summary>Whether the jobs at <paramref name="hook"/> ran in this attempt.</summary>
    public bool Ran(JobHook hook) => Jobs.Any(j => j.Hook == hook && j.Attempt == Attempt);

    /// <summary>In the watch after promotion (or held in it).</summary>
    public bool InWatch => WatchUntil is not null && !Phase.IsTerminal();

    /// <summary>Whether the rollout waits for <paramref name="reason"/>.</summary>
    public bool WaitsFor(WaitReason reason) => Waits.Contains(reason);

    /// <summary>Not started: the environment's checklist has not passed yet.</summary>
    public bool AwaitsChecklist => WaitsFor(WaitReason.AwaitingChecklist);

    /// <summary>Not started: the approvals are not given yet.</summary>
    public bool AwaitsApproval => WaitsFor(WaitReason.AwaitingApproval);

    /// <summary>Held where it is by a freeze.</summary>
    public bool HeldByFreeze => WaitsFor(WaitReason.HeldByFreeze);

    /// <summary>Held where it is until a person (or the end of a freeze) lets it go on: the split stays as it is.</summary>
    public bool IsHeld => Waits.Any(WaitReasons.IsHold);

    /// <summary>The key of the new release's set: its version, or a configuration key when a set of that version with other variables exists.</summary>
    public string NewKey => ReleaseKey ?? Release.Version;

    /// <summary>The service and environment this rollout is for.</summary>
    public Runtime.TargetId Target => new(Service, Environment);

    /// <summary>The key of the set that was stable when the rollout was created.</summary>
    public string? PriorKey => PreviousKey ?? PreviousVersion;

    /// <summary>Created, not started: waiting for its checklist or its approvals.</summary>
    public bool IsWaiting => Phase is RolloutPhase.Pending or RolloutPhase.AwaitingApproval;

    public InstanceSet? SetOf(SetRole role) => Sets.FirstOrDefault(s => s.Role == role);

    /// <summary>The set known by <paramref name="key"/> (a version's own set, not its fresh baseline).</summary>
    public InstanceSet? SetOf(string key) => Sets.FirstOrDefault(s => s.Key == key);

    /// <summary>The version serving the stable share (the new one once promoted).</summary>
    public string? StableVersion => SetOf(SetRole.Stable)?.Version;

    /// <summary>The state as it may be shown: the values of secret variables hidden, in the release and in every set.</summary>
    public RolloutState Redacted() => Release.Secret.IsEmpty && Sets.All(s => s.Release.Secret.IsEmpty)
        ? this
        : this with { Release = Release.Redacted(), Sets = [.. Sets.Select(s => s with { Release = s.Release.Redacted() })] };
}

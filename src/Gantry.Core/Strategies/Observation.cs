using Gantry.Core.Analysis;
using Gantry.Core.Rollouts;

namespace Gantry.Core.Strategies;

/// <summary>What was seen of one set of instances: how many run, how many pass their readiness probe, how often they were restarted.</summary>
/// <param name="Unstartable">Why an instance of the set cannot be started at all (a missing image), when one cannot.</param>
public sealed record SetHealth(int Running, int Ready, string? LastError, int Restarts = 0, string? Unstartable = null)
{
    public static SetHealth None { get; } = new(0, 0, null);
}

/// <summary>The state of the analysis run a rollout asked for.</summary>
public sealed record AnalysisStatus(string Key, AnalysisPhase Phase, string Message);

/// <summary>The jobs a rollout asked for (<see cref="Key"/>): done once <see cref="Finished"/>, with how each ended (or what runs now).</summary>
public sealed record JobStatus(string Key, bool Finished, ValueList<JobOutcome> Results, string Message);

/// <summary>
/// What the reconciler observed of the world, at <see cref="Now"/>; sets by <see cref="InstanceSet.Key"/>.
/// <see cref="Routed"/> is the rollout's traffic whose split the router reported in force (null: none verified yet).
/// </summary>
public sealed record Observation(DateTimeOffset Now, IReadOnlyDictionary<string, SetHealth> Sets, AnalysisStatus? Analysis = null, AnalysisStatus? Background = null, bool ChecklistPassed = false, TrafficState? Routed = null, string? FreezeHold = null, Approvals.ApprovalStatus? Approval = null, JobStatus? Job = null)
{
    /// <summary>Whether the router verified <paramref name="traffic"/> in force.</summary>
    public bool InForce(TrafficState traffic) => Routed == traffic;

    /// <summary>The health of the set known by <paramref name="key"/> (<see cref="InstanceSet.Key"/>).</summary>
    public SetHealth Of(string key) => Sets.TryGetValue(key, out var health) ? health : SetHealth.None;

    /// <summary>Ready instances of a set that may receive traffic (the first <see cref="InstanceSet.Routed"/> by index).</summary>
    public int ReadyOf(InstanceSet set) => Math.Min(Of(set.Key).Ready, set.Replicas);
}

/// <summary>Something that happened to a rollout, worth telling a person.</summary>
public sealed record RolloutEvent(RolloutEventType Type, string Message);

/// <summary>A strategy's answer: the next state and what happened. <see cref="Changed"/> is false when nothing did.</summary>
public sealed record Decision(RolloutState State, ValueList<RolloutEvent> Events)
{
    public bool Changed(RolloutState before) => !Events.IsEmpty || State != before;
}

public enum CommandKind
{
    Promote,
    PromoteFull,
    Pause,
    Resume,
    Abort,
    Retry,
}

/// <summary>A person's command to a rollout, with who gave it and why.</summary>
public sealed record RolloutCommand(CommandKind Kind, string By, string? Reason = null);

/// <summary>Either the decision a command leads to, or why it was refused (nothing changes then).</summary>
public sealed record CommandResult(Decision? Decision, string? Refusal)
{
    public static CommandResult Refuse(string why) => new(null, why);
}

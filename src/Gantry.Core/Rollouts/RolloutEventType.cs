namespace Gantry.Core.Rollouts;

/// <summary>
/// What a rollout's event says happened: the closed set the engine and the rollout service emit, and that
/// incidents, notifications and the CLI react to. Stored, streamed and shown by name (<c>TrafficShifted</c>).
/// </summary>
public enum RolloutEventType
{
    Created,
    AwaitingApproval,
    Approved,
    ChecklistPassed,
    BaselineStarted,
    TrafficShifted,
    HeaderRouteSet,
    MirrorSet,
    ScaledUp,
    ScaledDown,
    PreviewReady,
    Paused,
    Resumed,
    AnalysisStarted,
    AnalysisSucceeded,
    AnalysisFailed,
    AnalysisInconclusive,
    Promoting,
    Promoted,
    Retried,
    Succeeded,
    Aborted,
    Failed,
    RolledBack,
    JobStarted,
    JobSucceeded,
    JobFailed,
    Watching,
    WatchFailed,
}

public static class RolloutEventTypes
{
    /// <summary>The type a stored event's name stands for (null for a name this version does not know).</summary>
    public static RolloutEventType? Parse(string name) =>
        name.Length > 0 && char.IsLetter(name[0]) && Enum.TryParse<RolloutEventType>(name, ignoreCase: false, out var type) ? type : null;

    /// <summary>Whether the stored event is of <paramref name="type"/>.</summary>
    public static bool Is(this StoredEvent e, RolloutEventType type) => Parse(e.Type) == type;

    /// <summary>The events that end a rollout.</summary>
    public static bool EndsRollout(this RolloutEventType type) => type is RolloutEventType.Succeeded or RolloutEventType.Aborted or RolloutEventType.Failed or RolloutEventType.RolledBack;
}

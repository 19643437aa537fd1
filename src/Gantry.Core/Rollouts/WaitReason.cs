namespace Gantry.Core.Rollouts;

/// <summary>Why a rollout is not moving on by itself; a rollout may wait for several at once.</summary>
public enum WaitReason
{
    /// <summary>A person paused it (gantry pause); gantry resume goes on.</summary>
    PausedByPerson,

    /// <summary>A freeze with <c>running: hold</c> holds it where it is until the freeze ends.</summary>
    HeldByFreeze,

    /// <summary>It has not started: the environment's pre-deployment checklist has not passed yet.</summary>
    AwaitingChecklist,

    /// <summary>It has not started: the approvals the environment requires are not given yet.</summary>
    AwaitingApproval,

    /// <summary>An analysis could not decide; a person resumes (a new run) or aborts.</summary>
    InconclusiveAnalysis,

    /// <summary>An analysis failed under <c>onFailure: hold</c>: the split holds until a person resumes or aborts.</summary>
    FailedAnalysisHeld,

    /// <summary>At a step that goes on only when promoted: <c>pause: {}</c>, blue-green without automatic promotion, a step analysis that could not decide.</summary>
    AwaitingPromotion,
}

/// <summary>Sets of wait reasons, kept in a stable order.</summary>
public static class WaitReasons
{
    /// <summary>The reasons a person ends (resume) or that end by themselves, as opposed to the gates before a rollout starts.</summary>
    public static bool IsHold(this WaitReason reason) => reason is WaitReason.PausedByPerson or WaitReason.HeldByFreeze or WaitReason.InconclusiveAnalysis or WaitReason.FailedAnalysisHeld;

    /// <summary>The gates before a rollout starts.</summary>
    public static bool IsStartGate(this WaitReason reason) => reason is WaitReason.AwaitingChecklist or WaitReason.AwaitingApproval;

    public static ValueList<WaitReason> With(this ValueList<WaitReason> reasons, WaitReason reason) =>
        reasons.Contains(reason) ? reasons : [.. reasons.Append(reason).Order()];

    public static ValueList<WaitReason> Without(this ValueList<WaitReason> reasons, WaitReason reason) =>
        reasons.Contains(reason) ? [.. reasons.Where(r => r != reason)] : reasons;

    /// <summary>Without the holds (what a resume clears).</summary>
    public static ValueList<WaitReason> WithoutHolds(this ValueList<WaitReason> reasons) =>
        reasons.Any(IsHold) ? [.. reasons.Where(r => !r.IsHold())] : reasons;

    /// <summary>Only the start gates (what is left when a rollout ends: a retry knows it never started).</summary>
    public static ValueList<WaitReason> OnlyStartGates(this ValueList<WaitReason> reasons) =>
        reasons.All(IsStartGate) ? reasons : [.. reasons.Where(IsStartGate)];
}

/// <summary>Where a blue-green rollout is, in order.</summary>
public enum BlueGreenStage
{
    /// <summary>The new set starts beside the active one, served on the preview listener.</summary>
    Preview,

    /// <summary>Analysis against the preview, before the switch.</summary>
    PrePromotionAnalysis,

    /// <summary>Waiting for promotion: automatic after its delay, or by a person.</summary>
    AwaitingPromotion,

    /// <summary>Switching all traffic once every new instance is ready.</summary>
    Switching,

    /// <summary>Analysis of the switched traffic; a failure switches back.</summary>
    PostPromotionAnalysis,
}

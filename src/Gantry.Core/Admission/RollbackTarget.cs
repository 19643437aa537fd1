using Gantry.Core.Rollouts;

namespace Gantry.Core.Admission;

/// <summary>Why there is no rollback to make.</summary>
public enum RollbackRefusal
{
    /// <summary>No release runs there.</summary>
    NothingRunning,

    /// <summary>A rollout is in progress: abort it instead.</summary>
    InProgress,

    /// <summary>The version asked for never ran as the stable release there.</summary>
    NotATarget,

    /// <summary>Only one release ever ran there.</summary>
    NothingToRollBackTo,

    /// <summary>The release asked for is the one running.</summary>
    AlreadyRunning,
}

/// <summary>The release to go back to and the rollout it undoes, or why there is none.</summary>
public sealed record RollbackChoice(Release? Target, RolloutState? Replaced, RollbackRefusal? Refusal, string Message);

/// <summary>
/// Where a rollback goes, as a pure function of the service's history in the environment (newest first): only to
/// a release that ran there as the stable one, with the variables it ran with there; anything else is a deploy,
/// with its gate, approvals, windows and soak.
/// </summary>
public static class RollbackTarget
{
    public static RollbackChoice Choose(string service, string environment, IReadOnlyList<RolloutState> history, string? to)
    {
        var latest = history.Count > 0 ? history[0] : null;
        if (latest?.SetOf(SetRole.Stable) is not { } stable)
        {
            return Refuse(RollbackRefusal.NothingRunning, $"{service} has no release running in {environment}");
        }

        if (!latest.Phase.IsTerminal())
        {
            return Refuse(RollbackRefusal.InProgress, $"{service} in {environment} is being rolled out ({latest.Id}, {latest.Phase}): abort it instead of rolling back");
        }

        var current = stable.Release;
        var wereStable = history.Where(r => r.Phase is RolloutPhase.Succeeded or RolloutPhase.RolledBack).Select(r => r.Release).ToList();
        Release? target;
        if (to is not null)
        {
            target = wereStable.FirstOrDefault(r => r.Version == to);
            if (target is null)
            {
                return Refuse(RollbackRefusal.NotATarget, $"{service} {to} never ran as the stable release in {environment}: a rollback only goes back to a release that did. "
                    + $"To run {to} there, deploy it (gantry deploy {service} -v {to} -e {environment}): it then passes the gate, approvals, windows and soak");
            }
        }
        else
        {
            target = wereStable.FirstOrDefault(r => !r.SameConfiguration(current));
            if (target is null)
            {
                return Refuse(RollbackRefusal.NothingToRollBackTo, $"{service} in {environment} has had only one release ({current.Version})");
            }
        }

        if (target.SameConfiguration(current))
        {
            return Refuse(RollbackRefusal.AlreadyRunning, $"{target.Version} is already the stable release of {service} in {environment}");
        }

        // The rollout that brought the current release in is the one rolled back.
        var replaced = history.FirstOrDefault(r => r.Phase == RolloutPhase.Succeeded && r.Release.SameConfiguration(current));
        return new RollbackChoice(target, replaced, null, $"rolling back {service} in {environment} from {current.Version} to {target.Version}");
    }

    private static RollbackChoice Refuse(RollbackRefusal refusal, string message) => new(null, null, refusal, message);
}

using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;

namespace Gantry.Core.Strategies;

/// <summary>How a rollout ends: all traffic switched, success, or an abort, failure or rollback back to the stable release.</summary>
public static partial class RolloutEngine
{
    /// <summary>Moves all traffic to <paramref name="set"/> at once; the old stable leaves traffic and stops after <paramref name="keep"/>.</summary>
    private static void SwitchTo(Changes c, InstanceSet set, TimeSpan? keep)
    {
        var sets = c.State.Sets
            .Select(s => s.Key == set.Key ? s with { Role = SetRole.Stable, Routed = s.Replicas, RemoveAt = null }
                : s.Role is SetRole.Stable or SetRole.Canary ? s with { Role = SetRole.Retired, Routed = 0, RemoveAt = keep is { } k ? c.Now + k : null }
                : s.Role is SetRole.Baseline ? s with { Role = SetRole.Retired, Routed = 0, RemoveAt = c.Now + c.Drain }
                : s)
            .ToList();
        c.State = c.State with { Sets = [.. sets], Traffic = TrafficState.AllStable };
        c.Switched = true;
        c.Event(RolloutEventType.TrafficShifted, $"100% of traffic on {set.Version}");
    }

    /// <summary>
    /// Succeeds; after a switch of all traffic in the same decision, once the router is seen routing it
    /// (<see cref="RolloutState.SucceedsOnceRouted"/>, finished by <see cref="FinishOnceRouted"/>).
    /// </summary>
    private static void Succeed(Changes c, ServiceSpec service, string message)
    {
        if (c.Switched)
        {
            c.State = c.State with { SucceedsOnceRouted = message, Message = $"{message}; waiting for the router to switch", Analysis = null, Background = null, StepUntil = null };
            return;
        }

        c.State = c.State with { Phase = RolloutPhase.Succeeded, Message = message, Analysis = null, Background = null, StepUntil = null, FinishedAt = c.Now, SucceedsOnceRouted = null };
        c.Event(RolloutEventType.Succeeded, message);
        RequestEndJobs(c, service, RolloutPhase.Succeeded);
    }

    /// <summary>
    /// Aborts or fails: all traffic back to the stable release at once (switching back when the new one had
    /// already taken over), the new release's instances kept for the abort delay, then stopped.
    /// </summary>
    private static void Stop(Changes c, ServiceSpec service, RolloutPhase phase, string message)
    {
        var delay = service.Strategy is CanaryStrategy canary ? canary.AbortScaleDownDelay : DefaultAbortScaleDownDelay;
        var version = c.State.NewKey;
        var sets = c.State.Sets.ToList();
        var previous = c.State.PriorKey is { } p ? sets.FirstOrDefault(s => s.Key == p) : null;
        if (c.State.Strategy == StrategyKind.Rolling && previous is not null && !c.State.InWatch && sets.Any(s => s.Key == version))
        {
            // The old release comes back to full size; the new one keeps serving until it is ready.
            sets[sets.IndexOf(previous)] = previous with { Role = SetRole.Stable, Replicas = service.Replicas, Routed = service.Replicas, RemoveAt = null };
            var added = sets.First(s => s.Key == version);
            sets[sets.IndexOf(added)] = added with { Role = SetRole.Retired, RemoveAt = null };
        }
        else
        {
            if (previous is not null && sets.Any(s => s.Key == version && s.Role == SetRole.Stable))
            {
                sets[sets.IndexOf(previous)] = previous with { Role = SetRole.Stable, Routed = previous.Replicas, RemoveAt = null };
                c.Event(RolloutEventType.TrafficShifted, $"100% of traffic back on {previous.Version}");
            }

            sets = [.. sets.Select(s => s.Key == version ? s with { Role = SetRole.Retired, Routed = 0, RemoveAt = c.Now + delay }
                : s.Role == SetRole.Baseline ? s with { Role = SetRole.Retired, Routed = 0, RemoveAt = c.Now + c.Drain }
                : s)];
        }

        c.State = c.State with
        {
            Phase = phase,
            Message = message,
            Sets = [.. sets],
            Traffic = c.State.Strategy == StrategyKind.Rolling ? c.State.Traffic : TrafficState.AllStable,
            Analysis = null,
            Background = null,
            StepUntil = null,
            Waits = c.State.Waits.OnlyStartGates(),
            FinishedAt = c.Now,
            SucceedsOnceRouted = null,
        };
        c.Event(phase switch { RolloutPhase.Failed => RolloutEventType.Failed, RolloutPhase.RolledBack => RolloutEventType.RolledBack, _ => RolloutEventType.Aborted }, message);
        RequestEndJobs(c, service, phase);
    }

    /// <summary>A rollout that switched all traffic at its end: succeeds once the router is seen routing it; true while it waits.</summary>
    private static bool FinishOnceRouted(Changes c, ServiceSpec service, Observation observed)
    {
        if (c.State.SucceedsOnceRouted is not { } message || c.State.Phase.IsTerminal() || c.State.IsHeld)
        {
            return false;
        }

        if (!observed.InForce(c.State.Traffic))
        {
            c.Waiting($"{message}; waiting for the router to switch");
            return true;
        }

        Succeed(c, service, message);
        return true;
    }
}

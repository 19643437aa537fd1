using System.Globalization;
using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;

namespace Gantry.Core.Strategies;

public static partial class RolloutEngine
{
    /// <summary>
    /// Rolling: new instances are added (up to maxSurge above the replica count) and old ones leave (never
    /// more than maxUnavailable below it) in batches; an old instance leaves traffic only when enough new
    /// ones are ready, drains, and only then stops. Traffic follows the ready instances of both versions.
    /// </summary>
    private static void NextRolling(Changes c, ServiceSpec service, Observation observed)
    {
        var spec = service.Strategy as RollingStrategy ?? RollingStrategy.Default;
        var n = service.Replicas;
        var surge = spec.MaxSurge.Resolve(n, roundUp: true);
        var unavailable = spec.MaxUnavailable.Resolve(n, roundUp: false);
        if (surge == 0 && unavailable == 0)
        {
            surge = 1;
        }

        var fresh = c.State.SetOf(c.State.NewKey)!;
        var old = c.State.SetOf(SetRole.Stable);

        // An old instance that left traffic has drained: stop it.
        if (old is not null && old.Replicas > old.Routed && (c.State.StepUntil is null || observed.Now >= c.State.StepUntil))
        {
            Replace(c, old, old = old with { Replicas = old.Routed });
            c.State = c.State with { StepUntil = null };
        }

        var oldRunning = old?.Replicas ?? 0;
        var wanted = Math.Min(n, n + surge - oldRunning);
        if (wanted > fresh.Replicas)
        {
            Replace(c, fresh, fresh = fresh with { Replicas = wanted, Routed = wanted });
            c.Event(RolloutEventType.ScaledUp, string.Create(CultureInfo.InvariantCulture, $"{fresh.Version}: {wanted}/{n} instances"));
        }

        var freshReady = observed.ReadyOf(fresh);
        var oldReady = old is null ? 0 : Math.Min(observed.Of(old.Key).Ready, old.Routed);
        var removable = freshReady + oldReady - (n - unavailable);
        if (old is { Routed: > 0 } && c.State.StepUntil is null && removable > 0)
        {
            var leaving = Math.Min(removable, old.Routed);
            Replace(c, old, old = old with { Routed = old.Routed - leaving });
            c.State = c.State with { StepUntil = observed.Now + c.Drain };
            c.Event(RolloutEventType.TrafficShifted, string.Create(CultureInfo.InvariantCulture, $"{leaving} instance(s) of {old.Version} out of traffic ({freshReady}/{n} of {fresh.Version} ready)"));
        }

        if (freshReady >= n && (old is null || old.Replicas == 0))
        {
            c.State = c.State with
            {
                Sets = [.. c.State.Sets.Where(s => s != old).Select(s => s.Key == fresh.Key ? s with { Role = SetRole.Stable } : s)],
                Traffic = TrafficState.AllStable,
            };
            Promoted(c, service, string.Create(CultureInfo.InvariantCulture, $"{fresh.Version} replaced {c.State.PreviousVersion}: {n}/{n} instances ready"), old);
            return;
        }

        c.Waiting(string.Create(CultureInfo.InvariantCulture, $"rolling: {freshReady}/{n} of {fresh.Version} ready, {old?.Routed ?? 0} of {c.State.PreviousVersion} serving"));
    }
}

namespace Gantry.Core.Rollouts;

/// <summary>One backend group of a rollout's traffic split: a set's instances and their weight.</summary>
public sealed record TrafficGroup(InstanceSet Set, int Weight);

/// <summary>Turns a rollout's wanted traffic into router groups; the router, the CLI and the tests read it the same way.</summary>
public static class TrafficGroups
{
    /// <summary>
    /// The groups that should serve: the stable set with the stable share, the canary set with the canary
    /// share (present at weight 0 when header routes or the mirror need it), or, for a rolling update,
    /// every routed set weighted by its ready routed instances (<paramref name="readyRouted"/>).
    /// </summary>
    public static IReadOnlyList<TrafficGroup> Of(RolloutState state, Func<InstanceSet, int> readyRouted)
    {
        var groups = new List<TrafficGroup>();
        if (state.Traffic.Proportional)
        {
            foreach (var set in state.Sets.Where(s => s.Routed > 0))
            {
                groups.Add(new TrafficGroup(set, readyRouted(set)));
            }

            return groups;
        }

        var baseline = state.SetOf(SetRole.Baseline) is { } b && state.Traffic.BaselineWeight > 0 ? b : null;
        var baselineWeight = baseline is null ? 0 : state.Traffic.BaselineWeight;
        if (state.SetOf(SetRole.Stable) is { } stable)
        {
            groups.Add(new TrafficGroup(stable, 100 - state.Traffic.CanaryWeight - baselineWeight));
        }

        if (baseline is not null)
        {
            groups.Add(new TrafficGroup(baseline, baselineWeight));
        }

        if (state.SetOf(SetRole.Canary) is { } canary
            && (state.Traffic.CanaryWeight > 0 || !state.Traffic.HeaderRoute.IsEmpty || state.Traffic.MirrorPercent > 0))
        {
            groups.Add(new TrafficGroup(canary, state.Traffic.CanaryWeight));
        }

        return groups;
    }

    /// <summary>
    /// The share of the traffic (0-100) on the rollout's own release, as its state wants it; a rolling update
    /// counts its sets' routed instances.
    /// </summary>
    public static int ShareOf(RolloutState state)
    {
        var groups = Of(state, set => set.Routed);
        var total = groups.Sum(g => g.Weight);
        return total <= 0 ? 0 : (int)Math.Round(100.0 * groups.Where(g => g.Set.Key == state.NewKey).Sum(g => g.Weight) / total, MidpointRounding.AwayFromZero);
    }
}

using Gantry.Core;
using Gantry.Core.Runtime;
using Gantry.Core.Traffic;

namespace Gantry.Server.Reconciler;

/// <summary>A service in an environment with its newest rollout: what should run and serve.</summary>
public sealed record Target(ServiceSpec Spec, RolloutState State)
{
    public string Route => RoutingPlanner.RouteName(State.Service, State.Environment);

    public string? PreviewRoute => Spec.Strategy is BlueGreenStrategy { PreviewListen: not null } ? Route + ".preview" : null;
}

/// <summary>Turns what the rollouts want and which instances are ready into the traffic router's routes. Backends are named after sets (<see cref="InstanceSet.Key"/>: the version, or VERSION~baseline).</summary>
public static class RoutingPlanner
{
    public static string RouteName(string service, string environment) => $"{service}.{environment}";

    /// <summary>
    /// The instances of a set that may take traffic: the first <see cref="InstanceSet.Routed"/> by index. By rank, not
    /// by index value: an instance started while another of the set still stops (a rollback in the middle of a rolling
    /// update) gets the next free index, and the set's indexes then have a gap.
    /// </summary>
    private static IEnumerable<InstanceStatus> Routable(InstanceSet set, IEnumerable<InstanceStatus> instances) =>
        instances.Where(i => i.SetKey == set.Key).OrderBy(i => i.Index).Take(set.Routed);

    /// <summary>The ready instances of a set that may serve (<see cref="Routable"/>).</summary>
    public static IEnumerable<InstanceStatus> Serving(InstanceSet set, IEnumerable<InstanceStatus> instances) =>
        Routable(set, instances).Where(i => i.Phase == InstancePhase.Ready);

    /// <summary>Whether <paramref name="inForce"/> routes to every instance of the target's traffic groups that should serve (ready, routed by index).</summary>
    public static bool RoutesAllServing(RolloutState state, IReadOnlyList<InstanceStatus> mine, TrafficRoute inForce) =>
        TrafficGroups.Of(state, set => Serving(set, mine).Count()).All(g =>
            inForce.Backends.FirstOrDefault(b => b.Name == g.Set.Key) is { } backend
                ? Serving(g.Set, mine).All(i => backend.Instances.Contains(i.Address))
                : !Serving(g.Set, mine).Any());

    /// <summary>Whether <paramref name="inForce"/> carries every instance of every backend of <paramref name="planned"/> (its split aside).</summary>
    public static bool Carries(TrafficRoute? inForce, TrafficRoute planned) =>
        inForce is not null && planned.Backends.All(b => inForce.Backends.FirstOrDefault(x => x.Name == b.Name) is { } held && b.Instances.All(held.Instances.Contains));

    /// <summary>
    /// When no instance of a target passes its readiness probe (probes timing out on a starved machine, say), the
    /// running ones that have passed startup are routed to rather than none: a request that may succeed beats a
    /// certain 503 (Envoy's panic routing). Instances still starting, crashed or stopped never are.
    /// </summary>
    public static IEnumerable<InstanceStatus> Panic(InstanceSet set, IEnumerable<InstanceStatus> instances) =>
        Routable(set, instances).Where(i => i.Phase == InstancePhase.NotReady);

    /// <summary>
    /// One route per target on the service's listener (the first target to claim a listener keeps it), and
    /// a preview route for a blue-green release while it is previewed. A group with no ready instance serves
    /// no share while another group has ready instances.
    /// </summary>
    public static ValueList<TrafficRoute> Plan(IEnumerable<Target> targets, IReadOnlyList<InstanceStatus> instances, TrafficSwitches? switches = null, string manifestFolder = ".")
    {
        var routes = new List<TrafficRoute>();
        var claimed = new HashSet<Core.Manifest.Values.Endpoint>();
        var byTarget = instances.ToLookup(i => i.SetId.Target);
        foreach (var target in targets)
        {
            var mine = byTarget[target.State.Target].ToList();
            var serving = target.State.Sets.Any(set => Serving(set, mine).Any()) ? (Func<InstanceSet, IEnumerable<InstanceStatus>>)(set => Serving(set, mine)) : set => Panic(set, mine);
            var backends = TrafficGroups.Of(target.State, set => serving(set).Count())
                .Select(g => new TrafficBackend(g.Set.Key, g.Weight, [.. serving(g.Set).Select(i => i.Address)]))
                .ToList();
            if (backends.Any(b => b.Weight > 0 && b.Instances.Count > 0))
            {
                // A group left with no ready instance (all failing readiness for a moment, or crashed) gives its share
                // to the groups that have some, in proportion, rather than failing its requests; the rollout's
                // health rules still judge the set.
                backends = [.. backends.Select(b => b.Instances.Count == 0 ? b with { Weight = 0 } : b)];
            }

            if (backends.Count > 0 && claimed.Add(target.Spec.Listen))
            {
                if (backends.Sum(g => g.Weight) == 0)
                {
                    // Nothing ready yet: keep the listener, answer 503 until instances are.
                    backends[0] = backends[0] with { Weight = 1 };
                }

                var canary = target.State.SetOf(SetRole.Canary);
                var traffic = target.State.Traffic;
                ValueList<TrafficHeaderRoute> headerRoutes = canary is not null && !traffic.HeaderRoute.IsEmpty ? [new TrafficHeaderRoute(traffic.HeaderRoute, canary.Key)] : [];
                var mirror = canary is not null && traffic.MirrorPercent > 0 ? new TrafficMirror(canary.Key, traffic.MirrorPercent, traffic.MirrorMatch) : null;
                var (service, environment) = (target.State.Service, target.State.Environment);
                routes.Add(new TrafficRoute(target.Route, target.Spec.Listen, [.. backends], headerRoutes, mirror, target.Spec.Sticky, target.Spec.RouterDrain, target.Spec.RateLimit,
                    switches?.MessageFor(service, environment), switches?.PauseFor(service, environment), target.Spec.Tls?.In(manifestFolder)));
            }

            if (target.State.Traffic.Preview && target.Spec.Strategy is BlueGreenStrategy { PreviewListen: { } preview }
                && target.State.SetOf(SetRole.Canary) is { } next && claimed.Add(preview))
            {
                var ready = Serving(next, mine).Select(i => i.Address).ToList();
                routes.Add(new TrafficRoute(target.PreviewRoute!, preview, [new TrafficBackend(next.Key, 1, [.. ready])], [], null, null, target.Spec.RouterDrain, target.Spec.RateLimit));
            }
        }

        return [.. routes];
    }
}

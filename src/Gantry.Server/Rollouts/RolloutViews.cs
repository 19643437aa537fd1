using System.Globalization;
using Gantry.Server.Analysis;
using Gantry.Server.Reconciler;

namespace Gantry.Server.Rollouts;

/// <summary>A rollout as the API shows it: its steps, instances (as the leader observes them), traffic split and analysis.</summary>
public sealed class RolloutViews(GantryManifest manifest, Cluster.InstanceMirror observed, AnalysisRuns analysis)
{
    public RolloutView View(RolloutState state)
    {
        var instances = observed.Observe().Where(i => i.SetId.BelongsTo(state.Target)).OrderBy(i => i.Version, StringComparer.Ordinal).ThenBy(i => i.Index).ToList();
        return new RolloutView(state.Redacted(), Steps(state), Traffic(state, instances), instances, state.Analysis is { } a ? analysis.View(a.Key) : null, state.Background is { } b ? analysis.View(b.Key) : null);
    }

    /// <summary>The split of each rollout's traffic now, with the instances serving each part (the instances looked at once).</summary>
    public Dictionary<string, List<TrafficView>> Traffic(IEnumerable<RolloutState> states)
    {
        var byTarget = observed.Observe().ToLookup(i => (i.SetId.Service, i.SetId.Environment));
        return states.ToDictionary(s => s.Id, s => Traffic(s, [.. byTarget[(s.Service, s.Environment)]]), StringComparer.Ordinal);
    }

    private static List<TrafficView> Traffic(RolloutState state, List<Core.Runtime.InstanceStatus> instances)
    {
        var traffic = TrafficGroups.Of(state, set => RoutingPlanner.Serving(set, instances).Count())
            .Select(g => new TrafficView(g.Set.Version, g.Set.Role.ToString().ToLowerInvariant(), g.Weight, RoutingPlanner.Serving(g.Set, instances).Count(), g.Set.Replicas))
            .ToList();
        var total = traffic.Sum(t => t.Weight);
        if (state.Traffic.Proportional && total > 0)
        {
            traffic = [.. traffic.Select(t => t with { Weight = (int)Math.Round(100.0 * t.Weight / total) })];
        }

        return traffic;
    }

    private List<StepView> Steps(RolloutState state)
    {
        if (state.Strategy != StrategyKind.Canary || manifest.FindService(state.Service) is not { } service
            || EffectiveService.For(manifest, service, state.Environment).Strategy is not CanaryStrategy canary)
        {
            return [];
        }

        return [.. canary.Steps.Select((step, i) => new StepView(i + 1, Describe(step),
            i < state.Step || state.Phase == RolloutPhase.Succeeded ? "done" : i == state.Step && !state.Phase.IsTerminal() ? "current" : "pending"))];
    }

    public static string Describe(CanaryStep step) => step switch
    {
        SetWeightStep w => string.Create(CultureInfo.InvariantCulture, $"setWeight {w.Weight}"),
        PauseStep { Duration: { } d } => $"pause {Core.Manifest.Values.DurationSyntax.Format(d)}",
        PauseStep => "pause until promoted",
        AnalysisStep a => $"analysis {string.Join(", ", a.Analysis.Templates)}",
        SetHeaderRouteStep { Matches.IsEmpty: true } => "setHeaderRoute (remove)",
        SetHeaderRouteStep h => $"setHeaderRoute {string.Join(", ", h.Matches.Select(m => m.Name))}",
        SetMirrorStep m => string.Create(CultureInfo.InvariantCulture, $"setMirror {m.Percent}%"),
        _ => step.GetType().Name,
    };
}

using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;

namespace Gantry.Core.Traffic;

/// <summary>Instances that share one weight of a route: a version's ready instances.</summary>
public sealed record TrafficBackend(string Name, int Weight, ValueList<Endpoint> Instances);

/// <summary>Requests matching all of <see cref="Match"/> go to <see cref="Backend"/>, whatever the weights.</summary>
public sealed record TrafficHeaderRoute(ValueList<RouteMatch> Match, string Backend);

/// <summary>A share of (matching) requests copied to <see cref="Backend"/>; the copies' answers are discarded.</summary>
public sealed record TrafficMirror(string Backend, int Percent, ValueList<RouteMatch> Match);

/// <summary>What one service's front door should do: weighted backends, header routes, a mirror, and what keeps a user on one side.</summary>
public sealed record TrafficRoute(string Name, Endpoint Listen, ValueList<TrafficBackend> Backends, ValueList<TrafficHeaderRoute> HeaderRoutes, TrafficMirror? Mirror, StickySpec? Sticky = null);

/// <summary>Whether a router took a set of routes; when not, it keeps serving the previous ones.</summary>
public sealed record TrafficApplyResult(bool Applied, string? Error);

/// <summary>
/// Moves traffic: the seam between the rollout engine and whatever routes requests (the built-in router
/// now; nginx or a Kubernetes Gateway later). Applying is all or nothing and idempotent: the same routes
/// twice change nothing; routes not given any more are removed.
/// </summary>
public interface ITrafficRouter
{
    string Name { get; }

    /// <summary>The routes in force.</summary>
    ValueList<TrafficRoute> Current { get; }

    Task<TrafficApplyResult> ApplyAsync(ValueList<TrafficRoute> routes, CancellationToken ct);
}

using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;

namespace Gantry.Core.Traffic;

/// <summary>Instances that share one weight of a route: a version's ready instances.</summary>
public sealed record TrafficBackend(string Name, int Weight, ValueList<Endpoint> Instances);

/// <summary>Requests matching all of <see cref="Match"/> go to <see cref="Backend"/>, whatever the weights.</summary>
public sealed record TrafficHeaderRoute(ValueList<RouteMatch> Match, string Backend);

/// <summary>A share of (matching) requests copied to <see cref="Backend"/>; the copies' answers are discarded.</summary>
public sealed record TrafficMirror(string Backend, int Percent, ValueList<RouteMatch> Match);

/// <summary>
/// What one service's front door should do: weighted backends, header routes, a mirror, what keeps a user on one
/// side, how long requests in an instance that left the route may take to finish (<see cref="ServiceSpec.RouterDrain"/>),
/// how many requests a second each client may send, while the service is in maintenance the message clients get instead, and
/// while its requests are paused how long each may be held.
/// </summary>
public sealed record TrafficRoute(string Name, Endpoint Listen, ValueList<TrafficBackend> Backends, ValueList<TrafficHeaderRoute> HeaderRoutes, TrafficMirror? Mirror, StickySpec? Sticky, TimeSpan Drain, RateLimit? RateLimit = null, string? Maintenance = null, TimeSpan? Pause = null, ServiceTls? Tls = null)
{
    /// <summary>
    /// The route without its instance addresses: the split a rollout asks for. A router whose route in force has
    /// the same split has verified the rollout's traffic, whichever instances it currently lists.
    /// </summary>
    public TrafficRoute Split() => this with { Backends = [.. Backends.Select(b => b with { Instances = [] })] };
}

/// <summary>
/// Whether a router took a set of routes; when not, it keeps serving the previous ones (<paramref name="Superseded"/>:
/// because a table published after them is in force, see <see cref="IPublishedTables"/>).
/// </summary>
public sealed record TrafficApplyResult(bool Applied, string? Error, bool Superseded = false);

/// <summary>
/// Moves traffic: the seam between the rollout engine and whatever routes requests (the built-in router
/// now; a router process, nginx or a Kubernetes Gateway later). Applying is all or nothing and idempotent:
/// the same routes twice change nothing; routes not given any more are removed. Applying is not being in
/// force: a router may take a table and put it in force later, so the engine moves on only once
/// <see cref="InForceAsync"/> reads back the split it asked for (set, then verify).
/// </summary>
public interface ITrafficRouter
{
    string Name { get; }

    /// <summary>What this router can do; <c>gantry validate</c> refuses steps that need more.</summary>
    RouterCapabilities Capabilities { get; }

    Task<TrafficApplyResult> ApplyAsync(ValueList<TrafficRoute> routes, CancellationToken ct);

    /// <summary>The routes the router reports in force now (read back, not what was last applied).</summary>
    ValueTask<ValueList<TrafficRoute>> InForceAsync(CancellationToken ct);
}

/// <summary>
/// A router that several control planes give tables to (the replicas of one data directory share this machine's
/// router) and that orders them by the version the leader published each under in the store. The leader's own table
/// is always taken (<c>follows</c> false: it holds the lease, and a store started afresh numbers from 1
/// again); a table a replica's feed passes on is refused, <see cref="TrafficApplyResult.Superseded"/>, when a table
/// published after it is in force, so a feed that read the store just before the leader's next table cannot put the
/// older one back.
/// </summary>
public interface IPublishedTables
{
    Task<TrafficApplyResult> ApplyPublishedAsync(ValueList<TrafficRoute> routes, long published, bool follows, CancellationToken ct);
}

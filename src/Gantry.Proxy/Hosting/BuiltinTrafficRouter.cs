using Gantry.Core;
using Gantry.Core.Traffic;
using Gantry.Proxy.Routing;

namespace Gantry.Proxy.Hosting;

/// <summary>The embedded default <see cref="ITrafficRouter"/>: Gantry's own router, in process; a change is in force for the next request.</summary>
public sealed class BuiltinTrafficRouter(Router router) : ITrafficRouter
{
    private static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(30);

    public string Name => "builtin";

    public RouterCapabilities Capabilities => RouterCapability.Builtin;

    /// <summary>The routes last applied: in force from the next request on, so reading back is reading this.</summary>
    public ValueList<TrafficRoute> Current { get; private set; } = [];

    public ValueTask<ValueList<TrafficRoute>> InForceAsync(CancellationToken ct) => ValueTask.FromResult(Current);

    public async Task<TrafficApplyResult> ApplyAsync(ValueList<TrafficRoute> routes, CancellationToken ct)
    {
        if (routes == Current)
        {
            return new TrafficApplyResult(true, null);
        }

        var table = new RoutingTable([.. routes.Select(r => new RouteSpec(
            r.Name, r.Listen, [], "/",
            [.. r.Backends.Select(b => new BackendGroup(b.Name, b.Weight, b.Instances, LoadBalancingPolicy.RoundRobin))],
            [.. r.HeaderRoutes.Select(h => new GroupMatch(h.Match, h.Backend))],
            r.Mirror is { } m ? new MirrorSpec(m.Backend, m.Percent, m.Match) : null,
            r.Sticky is { } sticky ? new Routing.StickySpec(sticky.Cookie, sticky.Header) : null, PassiveHealthSpec.Default, RequestTimeout, r.Drain, RateLimit: r.RateLimit is { } limit ? new RateLimitSpec(limit.RequestsPerSecond, limit.Burst) : null,
            Maintenance: r.Maintenance is { } message ? new MaintenanceSpec(message, Core.Traffic.Maintenance.RetryAfterSeconds) : null))]);
        var result = await router.ApplyAsync(table, ct);
        if (result.Applied)
        {
            Current = routes;
        }

        return new TrafficApplyResult(result.Applied, result.Error);
    }
}

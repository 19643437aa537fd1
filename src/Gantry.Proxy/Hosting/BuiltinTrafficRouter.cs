using Gantry.Core;
using Gantry.Core.Traffic;
using Gantry.Proxy.Control;

namespace Gantry.Proxy.Hosting;

/// <summary>The embedded <see cref="ITrafficRouter"/>: Gantry's own router, in process; a change is in force for the next request.</summary>
public sealed class BuiltinTrafficRouter(RouterControl control) : ITrafficRouter
{
    public BuiltinTrafficRouter(Router router)
        : this(new RouterControl(router))
    {
    }

    public string Name => "builtin";

    public RouterCapabilities Capabilities => RouterCapability.Builtin;

    /// <summary>The routes in force: from the next request on, so reading back is reading this.</summary>
    public ValueList<TrafficRoute> Current => control.Current.Routes;

    public ValueTask<ValueList<TrafficRoute>> InForceAsync(CancellationToken ct) => ValueTask.FromResult(Current);

    public async Task<TrafficApplyResult> ApplyAsync(ValueList<TrafficRoute> routes, CancellationToken ct)
    {
        if (routes == Current && control.Current.Version > 0)
        {
            return new TrafficApplyResult(true, null);
        }

        var answer = await control.ApplyAsync(new RouteTable(control.Current.Version + 1, routes), ct);
        return new TrafficApplyResult(answer.Applied, answer.Error);
    }
}

using Gantry.Core;
using Gantry.Core.Manifest;
using Gantry.Proxy.Routing;
using Endpoint = Gantry.Core.Manifest.Values.Endpoint;

namespace Gantry.Proxy.Tests;

/// <summary>Routing tables for tests.</summary>
internal static class Tables
{
    public static RouteSpec Route(int port, params BackendGroup[] groups) => new(
        "shop", new Endpoint("127.0.0.1", port), [], "/", [.. groups], [], null, null, PassiveHealthSpec.Default, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(10));

    public static BackendGroup Group(string name, int weight, params Upstream[] instances) =>
        new(name, weight, [.. instances.Select(i => i.Address)], LoadBalancingPolicy.RoundRobin);

    public static BackendGroup Group(string name, int weight, params Endpoint[] instances) =>
        new(name, weight, [.. instances], LoadBalancingPolicy.RoundRobin);

    public static RoutingTable Table(params RouteSpec[] routes) => new([.. routes]);

    public static RouteMatch Header(string name, string value) => new(MatchSource.Header, name, MatchKind.Exact, value);

    public static RouteMatch Cookie(string name, string value) => new(MatchSource.Cookie, name, MatchKind.Exact, value);

    public static ValueList<T> List<T>(params T[] items) => [.. items];
}

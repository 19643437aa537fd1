using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Traffic;
using Gantry.Proxy.Hosting;
using Gantry.Testing;

namespace Gantry.Proxy.Tests.Hosting;

public sealed class BuiltinTrafficRouterTests
{
    private static TrafficRoute Route(int port, int stable, int canary) => new(
        "shop.default", new Endpoint("127.0.0.1", port),
        [new TrafficBackend("v1", stable, [new Endpoint("127.0.0.1", 5001)]), new TrafficBackend("v2", canary, [new Endpoint("127.0.0.1", 5002)])],
        [new TrafficHeaderRoute([new RouteMatch(MatchSource.Header, "x-canary", MatchKind.Exact, "1")], "v2")],
        new TrafficMirror("v2", 5, []),
        null,
        ServiceSpec.DefaultRouterDrain);

    [Fact(Timeout = 30_000)]
    public async Task ApplyAsync_Routes_BecomeTheRoutersTable()
    {
        await using var router = new Router(TimeProvider.System);
        var traffic = new BuiltinTrafficRouter(router);
        var port = FreePort.Next();

        (await traffic.ApplyAsync([Route(port, 90, 10)], CancellationToken.None)).Applied.Should().BeTrue();

        var route = router.Table.Routes.Should().ContainSingle().Subject;
        route.Groups.Select(g => (g.Name, g.Weight)).Should().Equal(("v1", 90), ("v2", 10));
        route.Matches.Should().ContainSingle().Which.Group.Should().Be("v2");
        route.Mirror!.Percent.Should().Be(5);
        traffic.Current.Should().Equal(Route(port, 90, 10));
    }

    [Fact(Timeout = 30_000)]
    public async Task ApplyAsync_UnroutableRoutes_AreRefusedAndTheOldOnesKeepServing()
    {
        await using var router = new Router(TimeProvider.System);
        var traffic = new BuiltinTrafficRouter(router);
        var port = FreePort.Next();
        await traffic.ApplyAsync([Route(port, 90, 10)], CancellationToken.None);
        var before = router.Table;

        var result = await traffic.ApplyAsync([Route(port, 0, 0)], CancellationToken.None);

        result.Applied.Should().BeFalse();
        result.Error.Should().Contain("no group with a weight above 0");
        router.Table.Should().Be(before);
        traffic.Current.Should().Equal(Route(port, 90, 10));
    }
}

using Gantry.Proxy.Routing;

namespace Gantry.Proxy.Tests.Routing;

public sealed class RoutingTableReaderTests
{
    [Fact(Timeout = 10_000)]
    public void ReadText_DocumentedExample_GivesTypedTable()
    {
        var result = RoutingTableReader.ReadText("""
            routes:
              - name: shop
                listen: 127.0.0.1:8080
                hosts: [shop.local]
                pathPrefix: /api
                timeout: 5s
                groups:
                  stable: { weight: 90, instances: [127.0.0.1:5001, 127.0.0.1:5002], loadBalancing: leastRequests }
                  canary: { weight: 10, instances: [127.0.0.1:5003] }
                matches:
                  - { header: X-Canary, exact: "1", group: canary }
                mirror: { group: canary, percent: 5 }
                sticky: { cookie: gantry-shop }
                passiveHealth: { consecutiveFailures: 3, ejectFor: 30s }
            """);

        result.Diagnostics.Should().BeEmpty();
        var route = result.Table!.Routes.Single();
        route.Hosts.Should().Equal("shop.local");
        route.PathPrefix.Should().Be("/api");
        route.Timeout.Should().Be(TimeSpan.FromSeconds(5));
        route.Groups.Select(g => (g.Name, g.Weight, g.Instances.Count, g.LoadBalancing)).Should().Equal(
            ("stable", 90, 2, LoadBalancingPolicy.LeastRequests), ("canary", 10, 1, LoadBalancingPolicy.RoundRobin));
        route.Matches.Single().Group.Should().Be("canary");
        route.Mirror.Should().Be(new MirrorSpec("canary", 5, []));
        route.Sticky.Should().Be(new StickySpec("gantry-shop", null));
        route.PassiveHealth.Should().Be(new PassiveHealthSpec(3, TimeSpan.FromSeconds(30)));
    }

    [Fact(Timeout = 10_000)]
    public void ReadText_Json_IsAcceptedToo()
    {
        var result = RoutingTableReader.ReadText("""{"routes": [{"name": "shop", "listen": "127.0.0.1:8080", "groups": {"stable": {"weight": 1, "instances": ["127.0.0.1:5001"]}}}]}""", "routes.json");

        result.Diagnostics.Should().BeEmpty();
        result.Table!.Routes.Single().Groups.Single().Weight.Should().Be(1);
    }

    [Fact(Timeout = 10_000)]
    public void ReadText_Mistakes_ReportEachWithPosition()
    {
        var result = RoutingTableReader.ReadText("""
            routes:
              - name: shop
                listen: 127.0.0.1:8080
                groups:
                  stable: { weight: 0, instances: [127.0.0.1:5001] }
                  canary: { weight: 0, instances: [127.0.0.1:99999] }
                matches:
                  - { header: X-Canary, exact: "1", group: canery }
                mirror: { group: stable, percent: 150 }
                stiky: { cookie: x }
            """, "routes.yaml");

        result.Table.Should().BeNull();
        result.Diagnostics.Select(d => d.ToString()).Should().Equal(
            "routes.yaml:5:7: error: every group has weight 0: no request could be routed",
            "routes.yaml:6:50: error: item 1 of 'instances': the port must be a number from 1 to 65535, got '99999'",
            "routes.yaml:8:48: error: unknown group 'canery'; did you mean 'canary'?",
            "routes.yaml:9:39: error: 'percent' must be from 0 to 100, got 150",
            "routes.yaml:10:5: error: unknown key 'stiky' in route 1; did you mean 'sticky'?");
    }

    [Fact(Timeout = 10_000)]
    public void ReadText_TwoRoutesOnSameAddressHostAndPrefix_IsAnError()
    {
        var result = RoutingTableReader.ReadText("""
            routes:
              - { name: a, listen: 127.0.0.1:8080, groups: { stable: { weight: 1, instances: [127.0.0.1:5001] } } }
              - { name: b, listen: 127.0.0.1:8080, groups: { stable: { weight: 1, instances: [127.0.0.1:5002] } } }
            """);

        result.Diagnostics.Single().Message.Should().Be("route 'b' answers the same address, host and path prefix as route 'a'");
    }
}

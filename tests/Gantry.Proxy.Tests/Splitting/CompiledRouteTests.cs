using Gantry.Proxy.Health;
using Gantry.Proxy.Routing;
using Gantry.Testing;
using Microsoft.AspNetCore.Http;
using Endpoint = Gantry.Core.Manifest.Values.Endpoint;

namespace Gantry.Proxy.Tests.Splitting;

public sealed class CompiledRouteTests
{
    private static readonly Endpoint A = new("127.0.0.1", 5001);
    private static readonly Endpoint B = new("127.0.0.1", 5002);

    private static CompiledRoute Compile(RouteSpec route)
    {
        var time = new FakeTimeProvider(TestClock.Start);
        return CompiledTable.Build(new RoutingTable([route]), new InstanceRegistry(time), new MetricsRegistry(time)).Routes.Single();
    }

    private static HttpRequest Request(string? cookie = null, (string, string)? header = null)
    {
        var context = new DefaultHttpContext();
        if (cookie is not null)
        {
            context.Request.Headers.Cookie = cookie;
        }

        if (header is { } h)
        {
            context.Request.Headers[h.Item1] = h.Item2;
        }

        return context.Request;
    }

    [Theory(Timeout = 10_000)]
    [InlineData(90, 10)]
    [InlineData(50, 50)]
    [InlineData(995, 5)]
    [InlineData(1, 0)]
    public void Choose_TenThousandRequests_SplitWithinOnePercent(int stable, int canary)
    {
        var route = Compile(Tables.Route(8080, Tables.Group("stable", stable, A), Tables.Group("canary", canary, B)));

        var toCanary = Enumerable.Range(0, 10_000).Count(_ => route.Choose(Request()).Group.Name == "canary");

        var expected = 10_000.0 * canary / (stable + canary);
        Math.Abs(toCanary - expected).Should().BeLessThanOrEqualTo(100, "within 1% of 10,000");
    }

    [Fact(Timeout = 10_000)]
    public void Choose_StickyCookie_SameUserSameSideAndCanaryUsersStayAsWeightGrows()
    {
        RouteSpec Spec(int canary) => Tables.Route(8080, Tables.Group("stable", 100 - canary, A), Tables.Group("canary", canary, B)) with { Sticky = new StickySpec("u", null) };
        var users = Enumerable.Range(0, 2_000).Select(i => $"u=user-{i}").ToList();
        var at10 = Compile(Spec(10));
        var at50 = Compile(Spec(50));
        var at100 = Compile(Spec(100));

        var onCanaryAt10 = users.Where(u => at10.Choose(Request(u)).Group.Name == "canary").ToList();
        var onCanaryAt50 = users.Where(u => at50.Choose(Request(u)).Group.Name == "canary").ToHashSet();

        onCanaryAt10.Count.Should().BeInRange(160, 240, "about 10% of 2,000 users");
        onCanaryAt10.Should().OnlyContain(u => onCanaryAt50.Contains(u), "users on the canary stay there as its weight grows");
        onCanaryAt50.Count.Should().BeInRange(900, 1_100);
        users.Should().OnlyContain(u => at100.Choose(Request(u)).Group.Name == "canary");
        users.Take(100).Should().OnlyContain(u => at10.Choose(Request(u)).Group.Name == at10.Choose(Request(u)).Group.Name, "the same user always lands on the same side");
    }

    [Fact(Timeout = 10_000)]
    public void Choose_StickyCookieMissing_AssignsOneToSet()
    {
        var route = Compile(Tables.Route(8080, Tables.Group("stable", 90, A), Tables.Group("canary", 10, B)) with { Sticky = new StickySpec("u", null) });

        var decision = route.Choose(Request());

        decision.NewStickyCookie.Should().NotBeNullOrEmpty();
        route.Choose(Request($"u={decision.NewStickyCookie}")).Group.Should().BeSameAs(decision.Group);
    }

    [Fact(Timeout = 10_000)]
    public void Choose_StickyHeader_HashesTheUserId()
    {
        var route = Compile(Tables.Route(8080, Tables.Group("stable", 50, A), Tables.Group("canary", 50, B)) with { Sticky = new StickySpec(null, "X-User") });

        var groups = Enumerable.Range(0, 20).Select(_ => route.Choose(Request(header: ("X-User", "alice"))).Group.Name).Distinct();

        groups.Should().ContainSingle();
        route.Choose(Request(header: ("X-User", "alice"))).NewStickyCookie.Should().BeNull();
    }

    [Fact(Timeout = 10_000)]
    public void Choose_HeaderAndCookieMatches_WinOverWeights()
    {
        var route = Compile(Tables.Route(8080, Tables.Group("stable", 100, A), Tables.Group("canary", 0, B)) with
        {
            Matches = [new GroupMatch([Tables.Header("X-Canary", "1")], "canary"), new GroupMatch([Tables.Cookie("beta", "yes")], "canary")],
        });

        route.Choose(Request(header: ("X-Canary", "1"))).Group.Name.Should().Be("canary");
        route.Choose(Request("beta=yes")).Group.Name.Should().Be("canary");
        route.Choose(Request(header: ("X-Canary", "0"))).Group.Name.Should().Be("stable");
        route.Choose(Request("beta=no")).Group.Name.Should().Be("stable");
    }

    [Fact(Timeout = 10_000)]
    public void Choose_PrefixAndRegexMatches_Apply()
    {
        var route = Compile(Tables.Route(8080, Tables.Group("stable", 100, A), Tables.Group("canary", 0, B)) with
        {
            Matches =
            [
                new GroupMatch([new(Core.Manifest.MatchSource.Header, "X-User", Core.Manifest.MatchKind.Prefix, "qa-")], "canary"),
                new GroupMatch([new(Core.Manifest.MatchSource.Header, "X-Build", Core.Manifest.MatchKind.Regex, "^2\\.[0-9]+$")], "canary"),
            ],
        });

        route.Choose(Request(header: ("X-User", "qa-bob"))).Group.Name.Should().Be("canary");
        route.Choose(Request(header: ("X-User", "bob"))).Group.Name.Should().Be("stable");
        route.Choose(Request(header: ("X-Build", "2.14"))).Group.Name.Should().Be("canary");
        route.Choose(Request(header: ("X-Build", "12.14"))).Group.Name.Should().Be("stable");
    }
}

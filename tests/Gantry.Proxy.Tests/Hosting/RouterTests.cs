using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Gantry.Proxy.Routing;
using Gantry.Testing;
using Endpoint = Gantry.Core.Manifest.Values.Endpoint;

namespace Gantry.Proxy.Tests.Hosting;

/// <summary>The router as a whole, with real upstreams: splitting, stickiness, mirroring, swaps, draining, ejection, metrics.</summary>
public sealed class RouterTests
{
    private const int Timeout = 90_000;

    private static async Task<Dictionary<string, int>> CountAsync(RouterFixture router, int requests, int parallel = 8)
    {
        var counts = new Dictionary<string, int>();
        var gate = new Lock();
        await Parallel.ForEachAsync(Enumerable.Range(0, requests), new ParallelOptions { MaxDegreeOfParallelism = parallel }, async (_, ct) =>
        {
            var who = await router.Client.GetStringAsync("/who", ct);
            lock (gate)
            {
                counts[who] = counts.GetValueOrDefault(who) + 1;
            }
        });
        return counts;
    }

    [Fact(Timeout = Timeout)]
    public async Task Split_NinetyTen_TenThousandRequestsWithinOnePercent()
    {
        await using var stable = await Upstream.StartAsync("stable");
        await using var canary = await Upstream.StartAsync("canary");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 90, stable), Tables.Group("canary", 10, canary))));

        var counts = await CountAsync(router, 10_000);

        counts.Values.Sum().Should().Be(10_000);
        counts["canary"].Should().BeInRange(900, 1_100);
    }

    [Fact(Timeout = Timeout)]
    public async Task Matches_HeaderAndCookie_RouteToTheirGroup()
    {
        await using var stable = await Upstream.StartAsync("stable");
        await using var canary = await Upstream.StartAsync("canary");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 100, stable), Tables.Group("canary", 0, canary)) with
        {
            Matches = [new GroupMatch([Tables.Header("X-Canary", "1")], "canary"), new GroupMatch([Tables.Cookie("beta", "yes")], "canary")],
        }));

        (await router.GetStringAsync("/who", ("X-Canary", "1"))).Should().Be("canary");
        (await router.GetStringAsync("/who", ("Cookie", "beta=yes; other=1"))).Should().Be("canary");
        (await router.GetStringAsync("/who", ("X-Canary", "2"))).Should().Be("stable");
        (await router.GetStringAsync("/who")).Should().Be("stable");
    }

    [Fact(Timeout = Timeout)]
    public async Task Sticky_UsersKeepTheirSideAsCanaryGrowsFromTenToFiftyToHundred()
    {
        await using var stable = await Upstream.StartAsync("stable");
        await using var canary = await Upstream.StartAsync("canary");
        RoutingTable Table(int port, int weight) => Tables.Table(Tables.Route(port, Tables.Group("stable", 100 - weight, stable), Tables.Group("canary", weight, canary)) with
        {
            Sticky = new StickySpec("gantry-user", null),
        });
        await using var router = await RouterFixture.StartAsync(port => Table(port, 10));

        // 300 users arrive without a cookie; the router gives each one and they keep it.
        var users = new List<(string Cookie, string Side)>();
        for (var i = 0; i < 300; i++)
        {
            using var response = await router.Client.GetAsync("/who");
            var cookie = response.Headers.GetValues("Set-Cookie").Single().Split(';')[0];
            users.Add((cookie, await response.Content.ReadAsStringAsync()));
        }

        async Task<string> Visit(string cookie) => await router.GetStringAsync("/who", ("Cookie", cookie));
        foreach (var (cookie, side) in users.Take(50))
        {
            (await Visit(cookie)).Should().Be(side, "a user stays on one side at a fixed weight");
        }

        // Each user's side is where the hash of the cookie the router gave falls: the canary holds the first 10% of the
        // line (the share itself is random with random cookies; which side each one got is not).
        users.Should().OnlyContain(u => u.Side == SideAt(u.Cookie, 10), "each user is on the side its cookie's point falls in");
        await router.ApplyAsync(Table(router.Port, 50));
        var at50 = new Dictionary<string, string>();
        foreach (var (cookie, _) in users)
        {
            at50[cookie] = await Visit(cookie);
        }

        users.Where(u => u.Side == "canary").Should().OnlyContain(u => at50[u.Cookie] == "canary", "canary users stay on the canary at 50%");
        at50.Should().OnlyContain(v => v.Value == SideAt(v.Key, 50), "at 50% the canary holds the first half of the line");
        await router.ApplyAsync(Table(router.Port, 100));
        foreach (var (cookie, _) in users.Take(50))
        {
            (await Visit(cookie)).Should().Be("canary");
        }
    }

    /// <summary>The side a "gantry-user=VALUE" cookie is on at a canary weight: the canary holds [0, weight%) of the line.</summary>
    private static string SideAt(string cookie, int weight) =>
        Gantry.Proxy.Splitting.StickyHash.PointOf(cookie["gantry-user=".Length..]) < weight / 100.0 ? "canary" : "stable";

    [Fact(Timeout = Timeout)]
    public async Task Find_HostAndPathPrefixRoutesOnOneListener_EachGetsItsOwn()
    {
        await using var shop = await Upstream.StartAsync("shop");
        await using var api = await Upstream.StartAsync("api");
        await using var admin = await Upstream.StartAsync("admin");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(
            Tables.Route(port, Tables.Group("stable", 1, shop)) with { Name = "shop" },
            Tables.Route(port, Tables.Group("stable", 1, api)) with { Name = "api", PathPrefix = "/api" },
            Tables.Route(port, Tables.Group("stable", 1, admin)) with { Name = "admin", Hosts = ["admin.local"] }));

        async Task<string> Get(string path, string? host = null)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            if (host is not null)
            {
                request.Headers.Host = host;
            }

            using var response = await router.Client.SendAsync(request);
            return await response.Content.ReadAsStringAsync();
        }

        (await Get("/home")).Should().Be("fallback shop");
        (await Get("/api/items")).Should().Be("fallback api");
        (await Get("/api")).Should().Be("fallback api");
        (await Get("/apiary/x")).Should().Be("fallback shop", "a prefix matches whole path segments");
        (await Get("/api/items", "admin.local")).Should().Be("fallback admin", "a Host match comes before path prefixes");
    }

    [Fact(Timeout = Timeout)]
    public async Task Mirror_HalfOfRequests_CopiedWhileClientSeesOnlyPrimary()
    {
        await using var stable = await Upstream.StartAsync("stable");
        await using var canary = await Upstream.StartAsync("canary");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 100, stable), Tables.Group("canary", 0, canary)) with
        {
            Mirror = new MirrorSpec("canary", 50, []),
        }));

        var counts = await CountAsync(router, 1_000);
        await Task.Delay(500);

        counts.Should().ContainSingle().Which.Should().Be(new KeyValuePair<string, int>("stable", 1_000), "the client only ever sees the primary's answer");
        canary.MirroredRequests.Should().Be(canary.Requests, "the canary only receives copies");
        canary.MirroredRequests.Should().BeInRange(430, 570);
    }

    [Fact(Timeout = Timeout)]
    public async Task Mirror_TargetDown_NeverFailsTheClient()
    {
        await using var stable = await Upstream.StartAsync("stable");
        var dead = new Endpoint("127.0.0.1", FreePort.Next());
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 100, stable), Tables.Group("canary", 0, dead)) with
        {
            Mirror = new MirrorSpec("canary", 100, []),
        }));

        var counts = await CountAsync(router, 200);

        counts["stable"].Should().Be(200);
    }

    [Fact(Timeout = Timeout)]
    public async Task Apply_WeightChange_InForceForTheVeryNextRequest()
    {
        await using var stable = await Upstream.StartAsync("stable");
        await using var canary = await Upstream.StartAsync("canary");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 100, stable), Tables.Group("canary", 0, canary))));
        (await router.GetStringAsync("/who")).Should().Be("stable");

        for (var i = 0; i < 10; i++)
        {
            var to = i % 2 == 0 ? "canary" : "stable";
            await router.ApplyAsync(Tables.Table(Tables.Route(router.Port, Tables.Group("stable", to == "stable" ? 100 : 0, stable), Tables.Group("canary", to == "canary" ? 100 : 0, canary))));
            (await router.GetStringAsync("/who")).Should().Be(to);
        }
    }

    [Fact(Timeout = Timeout)]
    public async Task Apply_HundredWeightChangesUnderLoad_LoseNoRequest()
    {
        await using var stable = await Upstream.StartAsync("stable");
        await using var canary = await Upstream.StartAsync("canary");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 90, stable), Tables.Group("canary", 10, canary))));
        using var stop = new CancellationTokenSource();
        var failures = 0;
        var served = 0;
        var load = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var response = await router.Client.GetAsync("/who", CancellationToken.None);
                Interlocked.Increment(ref response.IsSuccessStatusCode ? ref served : ref failures);
            }
        })).ToList();

        for (var i = 0; i < 100; i++)
        {
            var w = (i * 7) % 101;
            var result = await router.Router.ApplyAsync(Tables.Table(Tables.Route(router.Port, Tables.Group("stable", 100 - w, stable), Tables.Group("canary", w, canary))), CancellationToken.None);
            result.Applied.Should().BeTrue();
            await Task.Delay(10);
        }

        await stop.CancelAsync();
        await Task.WhenAll(load);
        failures.Should().Be(0);
        served.Should().BeGreaterThan(500);
    }

    [Fact(Timeout = Timeout)]
    public async Task Apply_ListenerCannotBind_RejectedAndOldTableKeepsServing()
    {
        await using var stable = await Upstream.StartAsync("stable");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 1, stable))));
        using var squatter = new TcpListener(IPAddress.Loopback, 0);
        squatter.Start();
        var busy = ((IPEndPoint)squatter.LocalEndpoint).Port;
        var before = router.Router.Table;

        var result = await router.Router.ApplyAsync(Tables.Table(
            Tables.Route(router.Port, Tables.Group("stable", 1, stable)) with { Name = "a" },
            Tables.Route(busy, Tables.Group("stable", 1, stable)) with { Name = "b" }), CancellationToken.None);

        result.Applied.Should().BeFalse();
        result.Error.Should().StartWith($"cannot listen on 127.0.0.1:{busy}");
        router.Router.Table.Should().Be(before);
        (await router.GetStringAsync("/who")).Should().Be("stable");
    }

    [Fact(Timeout = Timeout)]
    public async Task Apply_EveryWeightZero_RejectedAndOldTableKeepsServing()
    {
        await using var stable = await Upstream.StartAsync("stable");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 1, stable))));

        var result = await router.Router.ApplyAsync(Tables.Table(Tables.Route(router.Port, Tables.Group("stable", 0, stable))), CancellationToken.None);

        result.Should().Be(new Gantry.Proxy.Hosting.ApplyResult(false, "route 'shop' has no group with a weight above 0: no request could be routed"));
        (await router.GetStringAsync("/who")).Should().Be("stable");
    }

    [Fact(Timeout = Timeout)]
    public async Task Apply_InstanceRemoved_InFlightCompletesAndNewRequestsGoElsewhere()
    {
        await using var a = await Upstream.StartAsync("a");
        await using var b = await Upstream.StartAsync("b");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 1, a))));
        var inFlight = router.Client.GetStringAsync("/slow/1500");
        await Task.Delay(300);

        await router.ApplyAsync(Tables.Table(Tables.Route(router.Port, Tables.Group("stable", 1, b))));
        var after = await CountAsync(router, 50);

        after.Should().ContainSingle().Which.Key.Should().Be("b", "no request goes to a drained instance");
        (await inFlight).Should().Be("a", "the in-flight request finishes");
    }

    [Fact(Timeout = Timeout)]
    public async Task Apply_InstanceRemovedDrainTimeoutPasses_InFlightIsCancelled()
    {
        await using var a = await Upstream.StartAsync("a");
        await using var b = await Upstream.StartAsync("b");
        RouteSpec Route(int port, Upstream u) => Tables.Route(port, Tables.Group("stable", 1, u)) with { DrainTimeout = TimeSpan.FromMilliseconds(300) };
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Route(port, a)));
        var inFlight = router.Client.GetAsync("/slow/10000");
        await Task.Delay(300);

        await router.ApplyAsync(Tables.Table(Route(router.Port, b)));

        using var response = await inFlight.WaitAsync(TimeSpan.FromSeconds(5));
        response.StatusCode.Should().Be(HttpStatusCode.BadGateway);
        (await response.Content.ReadAsStringAsync()).Should().Contain("was removed and drained before it answered");
        await a.Aborted.Task.WaitAsync(TimeSpan.FromSeconds(5));
    }

    [Fact(Timeout = Timeout)]
    public async Task PassiveHealth_DeadInstance_IsEjectedAfterConsecutiveFailures()
    {
        await using var live = await Upstream.StartAsync("live");
        var dead = new Endpoint("127.0.0.1", FreePort.Next());
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 1, live.Address, dead)) with
        {
            PassiveHealth = new PassiveHealthSpec(2, TimeSpan.FromMinutes(1)),
        }));

        var statuses = await StatusesAsync(router, 60);

        statuses.Count(s => s == HttpStatusCode.BadGateway).Should().Be(2, "two failures in a row eject the dead instance");
        statuses.Skip(10).Should().OnlyContain(s => s == HttpStatusCode.OK);
    }

    [Fact(Timeout = Timeout)]
    public async Task PassiveHealth_GroupWithEveryInstanceEjected_ItsShareGoesToTheOtherGroupRatherThanA503()
    {
        await using var canary = await Upstream.StartAsync("canary");
        var dead = new Endpoint("127.0.0.1", FreePort.Next());
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 50, dead), Tables.Group("canary", 50, canary)) with
        {
            PassiveHealth = new PassiveHealthSpec(2, TimeSpan.FromMinutes(1)),
        }));

        var statuses = await StatusesAsync(router, 60);

        statuses.Count(s => s == HttpStatusCode.BadGateway).Should().Be(2, "two failures in a row eject the dead instance");
        statuses.Should().NotContain(HttpStatusCode.ServiceUnavailable, "the ejected group's requests are served by the other group");
        statuses.Skip(10).Should().OnlyContain(s => s == HttpStatusCode.OK);
    }

    /// <summary>The statuses of <paramref name="count"/> requests, one after the other.</summary>
    private static async Task<List<HttpStatusCode>> StatusesAsync(RouterFixture router, int count)
    {
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < count; i++)
        {
            using var response = await router.Client.GetAsync("/who");
            statuses.Add(response.StatusCode);
        }

        return statuses;
    }

    [Fact(Timeout = Timeout)]
    public async Task Metrics_AfterTraffic_ParsePrometheusTextAndCountEveryLevel()
    {
        await using var stable = await Upstream.StartAsync("stable");
        await using var canary = await Upstream.StartAsync("canary");
        await using var router = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("stable", 50, stable), Tables.Group("canary", 50, canary))));
        await CountAsync(router, 200);
        await router.Client.GetAsync("/status/500");
        await router.Client.GetAsync("/status/500");

        var text = router.Router.MetricsText(TimeSpan.FromSeconds(30));

        var sample = new Regex("""^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")(,[a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*")*\})? -?[0-9.e+Inf]+$""");
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        lines.Where(l => !l.StartsWith('#')).Should().OnlyContain(l => sample.IsMatch(l));
        lines.Where(l => l.StartsWith("# TYPE", StringComparison.Ordinal)).Should().HaveCount(5);
        Value(text, """gantry_proxy_requests_total{route="shop",code="2xx"}""").Should().Be(200);
        Value(text, """gantry_proxy_requests_total{route="shop",code="5xx"}""").Should().Be(2);
        (Value(text, """gantry_proxy_requests_total{route="shop",group="stable",code="2xx"}""") + Value(text, """gantry_proxy_requests_total{route="shop",group="canary",code="2xx"}""")).Should().Be(200);
        Value(text, $$"""gantry_proxy_requests_total{route="shop",group="canary",instance="{{canary.Address}}",code="2xx"}""").Should().BeInRange(95, 105);
        Value(text, """gantry_proxy_request_duration_seconds_count{route="shop"}""").Should().Be(202);
        Value(text, """gantry_proxy_request_duration_seconds_bucket{route="shop",le="+Inf"}""").Should().Be(202);
        var window = router.Router.Metrics.For("shop", "canary").Read(TimeSpan.FromSeconds(30));
        window.Requests.Should().BeGreaterThan(90);
        window.P99.Should().BeGreaterThan(0);
    }

    private static double Value(string text, string series) =>
        double.Parse(text.Split('\n').Single(l => l.StartsWith(series + " ", StringComparison.Ordinal))[(series.Length + 1)..], System.Globalization.CultureInfo.InvariantCulture);
}

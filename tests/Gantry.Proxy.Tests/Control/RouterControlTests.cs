using System.Net;
using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Traffic;
using Gantry.Proxy.Control;
using Gantry.Proxy.Hosting;
using Gantry.Proxy.Metrics;
using Gantry.Testing;

namespace Gantry.Proxy.Tests.Control;

/// <summary>The router process's table and admin API: numbered tables, a table served again after a restart, a token on every call.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class RouterControlTests : IDisposable
{
    private readonly string data = Directory.CreateTempSubdirectory("gantry-router-control-").FullName;

    public void Dispose() => Directory.Delete(data, recursive: true);

    private static TrafficRoute Route(int port, int stable, int canary) => new(
        "shop.default", new Endpoint("127.0.0.1", port),
        [new TrafficBackend("v1", stable, [new Endpoint("127.0.0.1", 5001)]), new TrafficBackend("v2", canary, [new Endpoint("127.0.0.1", 5002)])],
        [], null, null, ServiceSpec.DefaultRouterDrain, new RateLimit(100, 20), "back soon");

    [Fact(Timeout = 30_000)]
    public async Task ApplyAsync_AnOlderVersion_IsRefusedAndTheNewerKeepsServing()
    {
        await using var router = new Router(TimeProvider.System);
        using var control = new RouterControl(router);
        var port = FreePort.Next();

        (await control.ApplyAsync(new RouteTable(5, [Route(port, 50, 50)]), default)).Should().Be(new TableAnswer(true, null, 5));
        var stale = await control.ApplyAsync(new RouteTable(4, [Route(port, 100, 0)]), default);

        stale.Applied.Should().BeFalse();
        stale.Error.Should().Be("table version 4 is older than version 5 in force");
        control.Current.Version.Should().Be(5);
        router.Table.Routes.Single().Groups.Select(g => g.Weight).Should().Equal(50, 50);
    }

    [Fact(Timeout = 30_000)]
    public async Task ApplyAsync_OtherRoutesUnderTheVersionInForce_AreRefused_TheSameRoutesAreTakenAgain()
    {
        // A version names one table, so a read-back of an unchanged version can be trusted without reading every route.
        await using var router = new Router(TimeProvider.System);
        using var control = new RouterControl(router);
        var port = FreePort.Next();
        (await control.ApplyAsync(new RouteTable(3, [Route(port, 50, 50)]), default)).Applied.Should().BeTrue();

        (await control.ApplyAsync(new RouteTable(3, [Route(port, 50, 50)]), default)).Should().Be(new TableAnswer(true, null, 3), "the same table again changes nothing");
        (await control.ApplyAsync(new RouteTable(3, [Route(port, 0, 100)]), default)).Should().Be(new TableAnswer(false, "table version 3 is in force with other routes", 3));
        router.Table.Routes.Single().Groups.Select(g => g.Weight).Should().Equal(50, 50);
        (await control.ApplyAsync(new RouteTable(4, [Route(port, 0, 100)]), default)).Applied.Should().BeTrue("numbered after the one in force");
    }

    [Fact(Timeout = 30_000)]
    public async Task ApplyAsync_AFollowedTablePublishedBeforeTheOneInForce_IsRefusedWhateverItsNumber()
    {
        await using var router = new Router(TimeProvider.System);
        using var control = new RouterControl(router);
        var port = FreePort.Next();

        (await control.ApplyAsync(new RouteTable(5, [Route(port, 0, 100)], Published: 8), default)).Applied.Should().BeTrue();
        var stale = await control.ApplyAsync(new RouteTable(6, [Route(port, 50, 50)], Published: 7, Follows: true), default);

        stale.Should().Be(new TableAnswer(false, "published table 7 is older than published table 8 in force", 5, Superseded: true));
        router.Table.Routes.Single().Groups.Select(g => g.Weight).Should().Equal(0, 100);
        (await control.ApplyAsync(new RouteTable(6, [Route(port, 10, 90)], Published: 9, Follows: true), default)).Applied.Should().BeTrue();
        (await control.ApplyAsync(new RouteTable(7, [Route(port, 100, 0)], Published: 1), default)).Applied.Should().BeTrue("a leader's own table is not refused for its number");
        router.Table.Routes.Single().Groups.Select(g => g.Weight).Should().Equal(100, 0);
    }

    [Fact(Timeout = 30_000)]
    public async Task RestoreAsync_ANewRouterOnTheSameFolder_ServesTheLastTableInForce()
    {
        var files = new RouterFiles(data);
        files.EnsureToken();
        var port = FreePort.Next();
        var table = new RouteTable(3, [Route(port, 90, 10)], Published: 12, Follows: true);
        await using (var first = new Router(TimeProvider.System))
        using (var control = new RouterControl(first, files.StateFile))
        {
            await control.ApplyAsync(table, default);
        }

        await using var second = new Router(TimeProvider.System);
        using var restored = new RouterControl(second, files.StateFile);
        (await restored.RestoreAsync(default)).Applied.Should().BeTrue();

        restored.Current.Should().Be(table, "every field of every route survives the file: maintenance and rate limit included");
        second.Table.Routes.Single().Listen.Port.Should().Be(port);
    }

    [Fact(Timeout = 30_000)]
    public async Task AdminApi_WithTheToken_AppliesReadsBackAndMeasures_WithoutIt_Refuses()
    {
        var files = new RouterFiles(data);
        var token = files.EnsureToken();
        await using var router = new Router(TimeProvider.System);
        using var control = new RouterControl(router, files.StateFile);
        await using var admin = await RouterAdmin.StartAsync(control, files, token, (_, _) => Task.FromResult(new HandoverAnswer(false, null, "not here")), TimeProvider.System, default);
        using var client = new RouterAdminClient(files, token);
        var table = new RouteTable(1, [Route(FreePort.Next(), 80, 20)]);

        (await client.ApplyAsync(table, default)).Applied.Should().BeTrue();
        (await client.TableAsync(default)).Should().Be(table);
        (await client.StatusAsync(default)).TableVersion.Should().Be(1);
        var measured = await client.MeasureAsync(new MeasureRequest("shop.default", "v2", BuiltinMetric.ErrorRate, TimeSpan.FromSeconds(30)), default);
        measured.Error.Should().Be("no requests reached v2 in the last 30 s");
        measured.Value.Should().BeNull();
        (await client.TextAsync(TimeSpan.FromSeconds(10), default)).Should().StartWith("# HELP");

        using var stranger = new RouterAdminClient(files, "not-the-token");
        var refused = async () => await stranger.TableAsync(default);
        (await refused.Should().ThrowAsync<HttpRequestException>()).Which.StatusCode.Should().Be(HttpStatusCode.Unauthorized);
        File.GetUnixFileMode(files.Socket).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.GetUnixFileMode(files.TokenFile).Should().Be(UnixFileMode.UserRead | UnixFileMode.UserWrite);
    }

    [Fact(Timeout = 30_000)]
    public async Task AdminApi_Measure_GivesTheRoutersOwnFiguresWithRawSamples_AndOnlyNewOnesAfterACursor()
    {
        var files = new RouterFiles(data);
        var token = files.EnsureToken();
        await using var upstream = await Upstream.StartAsync("v2");
        await using var fixture = await RouterFixture.StartAsync(port => Tables.Table(Tables.Route(port, Tables.Group("v2", 1, upstream))));
        using var control = new RouterControl(fixture.Router);
        await using var admin = await RouterAdmin.StartAsync(control, files, token, (_, _) => Task.FromResult(new HandoverAnswer(false, null, "no")), TimeProvider.System, default);
        using var client = new RouterAdminClient(files, token);
        for (var i = 0; i < 40; i++)
        {
            (await fixture.Client.GetAsync(i % 10 == 0 ? "/status/503" : "/who")).Should().NotBeNull();
        }

        var latency = await client.MeasureAsync(new MeasureRequest("shop", "v2", BuiltinMetric.Latency, TimeSpan.FromSeconds(30)), default);
        latency.Samples.Should().HaveCount(40, "every request's latency crosses the socket as a raw sample");
        latency.Value.Should().BeGreaterThan(0);
        var errors = await client.MeasureAsync(new MeasureRequest("shop", "v2", BuiltinMetric.ErrorRate, TimeSpan.FromSeconds(30)), default);
        errors.Value.Should().BeApproximately(0.1, 1e-9);

        var first = await client.MeasureAsync(new MeasureRequest("shop", "v2", BuiltinMetric.Latency, TimeSpan.FromSeconds(30), Incremental: true), default);
        for (var i = 0; i < 5; i++)
        {
            await fixture.Client.GetAsync("/who");
        }

        var next = await client.MeasureAsync(new MeasureRequest("shop", "v2", BuiltinMetric.Latency, TimeSpan.FromSeconds(30), Incremental: true, After: first.Through), default);
        first.Samples.Should().HaveCount(40);
        next.Samples.Should().HaveCount(5, "only what came after the cursor");
    }
}

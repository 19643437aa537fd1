using Gantry.Core.Audit;
using Gantry.Proxy.Control;
using Gantry.Proxy.Hosting;
using Gantry.Server.Routers;
using Gantry.Storage.Sqlite;
using Gantry.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gantry.Server.Tests.Routers;

/// <summary>The control plane's side of the router process, against a real admin API on its unix socket.</summary>
public sealed class RouterProcessTests : IDisposable
{
    private readonly string data = Directory.CreateTempSubdirectory("gantry-router-process-").FullName;

    public void Dispose() => Directory.Delete(data, recursive: true);

    [Fact(Timeout = 60_000)]
    public async Task StartAsync_ARouterOfAnotherVersion_IsAskedToHandOverToThisOne()
    {
        var files = new RouterFiles(data);
        var token = files.EnsureToken();
        await using var router = new Router(TimeProvider.System);
        using var control = new RouterControl(router, files.StateFile);
        HandoverRequest? asked = null;
        await using var admin = await RouterAdmin.StartAsync(control, files, token, (request, _) =>
        {
            asked = request;
            return Task.FromResult(new HandoverAnswer(true, Environment.ProcessId, null));
        }, TimeProvider.System, default, version: "0.0.1-old");
        files.WritePid(Environment.ProcessId);
        await using var store = SqliteStore.Open(Path.Combine(data, "gantry.db"), TimeProvider.System, null);
        var launch = new RouterLaunch("/usr/bin/gantry", ["router", "--data", data]);

        await using var process = new RouterProcess(files, launch, store, TimeProvider.System, NullLogger<RouterProcess>.Instance);
        await process.StartAsync(default);

        asked.Should().NotBeNull("a router of another version is replaced");
        asked!.FileName.Should().Be("/usr/bin/gantry");
        asked.Arguments.Should().Equal("router", "--data", data);
        process.Pid.Should().Be(Environment.ProcessId);
    }

    [Fact(Timeout = 60_000)]
    public async Task StartAsync_ARouterOfThisVersion_IsKeptAndItsTableReadBack()
    {
        var files = new RouterFiles(data);
        var token = files.EnsureToken();
        await using var router = new Router(TimeProvider.System);
        using var control = new RouterControl(router, files.StateFile);
        var handovers = 0;
        await using var admin = await RouterAdmin.StartAsync(control, files, token, (_, _) =>
        {
            handovers++;
            return Task.FromResult(new HandoverAnswer(false, null, "not expected"));
        }, TimeProvider.System, default);
        files.WritePid(Environment.ProcessId);
        await using var store = SqliteStore.Open(Path.Combine(data, "gantry.db"), TimeProvider.System, null);
        await using var process = new RouterProcess(files, new RouterLaunch("/bin/false", []), store, TimeProvider.System, NullLogger<RouterProcess>.Instance);

        await process.StartAsync(default);
        var route = new Core.Traffic.TrafficRoute("shop.default", new Core.Manifest.Values.Endpoint("127.0.0.1", FreePort.Next()),
            [new Core.Traffic.TrafficBackend("v1", 1, [new Core.Manifest.Values.Endpoint("127.0.0.1", 5001)])], [], null, null, TimeSpan.FromSeconds(2));
        (await process.ApplyAsync([route], default)).Applied.Should().BeTrue();

        handovers.Should().Be(0);
        (await process.InForceAsync(default)).Should().Equal(route);
        control.Current.Version.Should().Be(1);
        (await store.AuditAsync(new AuditQuery("router"), default)).Should().BeEmpty("nothing was restarted");
    }

    [Fact(Timeout = 60_000)]
    public async Task ApplyPublishedAsync_AFeedWithAnOlderPublishedTable_DoesNotPutItBackOverTheLeaders()
    {
        // Two control planes on one data directory share one router: the leader, and a replica whose feed read the
        // store just before the leader published its next table (the takeover test's 503s after a promotion).
        await using var shared = await SharedRouter.StartAsync(data);
        var (router, control, leader, replica) = (shared.Router, shared.Control, shared.Leader, shared.Replica);
        var listen = new Core.Manifest.Values.Endpoint("127.0.0.1", FreePort.Next());
        Core.Traffic.TrafficRoute Split(int stable, int canary) => new("shop.default", listen,
            [new("1.0", stable, [new("127.0.0.1", 5001)]), new("2.0", canary, [new("127.0.0.1", 5002)])], [], null, null, TimeSpan.FromSeconds(2));

        (await replica.ApplyPublishedAsync([Split(50, 50)], 7, follows: true, default)).Applied.Should().BeTrue("the feed passes on table 7");
        (await leader.ApplyPublishedAsync([Split(0, 100)], 8, follows: false, default)).Applied.Should().BeTrue();
        var stale = await replica.ApplyPublishedAsync([Split(50, 50)], 7, follows: true, default);

        stale.Should().Be(new Core.Traffic.TrafficApplyResult(false, "published table 7 is older than published table 8 in force", Superseded: true));
        (await replica.InForceAsync(default)).Should().Equal(Split(0, 100));
        router.Table.Routes.Single().Groups.Select(g => g.Weight).Should().Equal(0, 100);

        (await replica.ApplyPublishedAsync([Split(0, 100)], 8, follows: true, default)).Applied.Should().BeTrue("the same table, as the feed reads it next");
        (await replica.ApplyPublishedAsync([Split(10, 90)], 9, follows: true, default)).Applied.Should().BeTrue("a newer one");
        (await leader.ApplyPublishedAsync([Split(100, 0)], 1, follows: false, default)).Applied.Should().BeTrue("the leader's table is taken whatever its number: a store started afresh numbers from 1");
        control.Current.Should().Match<RouteTable>(t => t.Published == 1 && !t.Follows);
    }

    [Fact(Timeout = 60_000)]
    public async Task InForceAsync_TheSameProcessAtTheSameVersion_IsNotReadWhole_ATableAppliedByAnotherIs()
    {
        // The reconciler reads the router back on every resync: 200 routes were 18 ms of JSON each time at rest.
        await using var shared = await SharedRouter.StartAsync(data);
        var (leader, replica) = (shared.Leader, shared.Replica);
        var listen = new Core.Manifest.Values.Endpoint("127.0.0.1", FreePort.Next());
        Core.Traffic.TrafficRoute Split(int canary) => new("shop.default", listen,
            [new("1.0", 100 - canary, [new("127.0.0.1", 5001)]), new("2.0", canary, [new("127.0.0.1", 5002)])], [], null, null, TimeSpan.FromSeconds(2));

        (await leader.ApplyAsync([Split(10)], default)).Applied.Should().BeTrue();
        (await leader.InForceAsync(default)).Should().Equal(Split(10));
        var read = leader.TablesRead;
        (await leader.InForceAsync(default)).Should().Equal(Split(10));
        (await leader.InForceAsync(default)).Should().Equal(Split(10));
        leader.TablesRead.Should().Be(read, "the same router process at the same table version has the routes read last time");

        // Another writer on the same router (a replica's feed) puts a new table in force: the next read-back sees it.
        (await replica.ApplyAsync([Split(60)], default)).Applied.Should().BeTrue();
        (await leader.InForceAsync(default)).Should().Equal(Split(60));
        leader.TablesRead.Should().Be(read + 1);
    }

    [Fact(Timeout = 60_000)]
    public async Task BoundRouter_ARefusedTable_LeavesTheListenersOfTheTableInForce()
    {
        // Replicas with --router-address: the manifest's listener (10.0.0.5) is bound on this machine's address.
        await using var shared = await SharedRouter.StartAsync(data);
        var leader = new BoundRouter(shared.Leader, "127.0.0.1");
        var replica = new BoundRouter(shared.Replica, "127.0.0.1");
        int[] ports = [FreePort.Next(), FreePort.Next()];
        Core.Traffic.TrafficRoute Route(int port, int canary) => new("shop.default", new Core.Manifest.Values.Endpoint("10.0.0.5", port),
            [new("1.0", 100 - canary, [new("127.0.0.1", 5001)]), new("2.0", canary, [new("127.0.0.1", 5002)])], [], null, null, TimeSpan.FromSeconds(2));

        (await replica.ApplyPublishedAsync([Route(ports[0], 50)], 7, follows: true, default)).Applied.Should().BeTrue();
        (await leader.ApplyPublishedAsync([Route(ports[0], 100)], 8, follows: false, default)).Applied.Should().BeTrue();
        (await replica.ApplyPublishedAsync([Route(ports[1], 50)], 7, follows: true, default)).Superseded.Should().BeTrue();

        (await replica.InForceAsync(default)).Should().Equal([Route(ports[0], 100)], "the table in force, read back with the manifest's listener");
    }

    /// <summary>One router on a real admin API, shared by two control planes of one data directory (a leader and a replica).</summary>
    private sealed class SharedRouter : IAsyncDisposable
    {
        private readonly List<IAsyncDisposable> owned = [];

        public required Router Router { get; init; }

        public required RouterControl Control { get; init; }

        public required RouterProcess Leader { get; init; }

        public required RouterProcess Replica { get; init; }

        public static async Task<SharedRouter> StartAsync(string data)
        {
            var files = new RouterFiles(data);
            var token = files.EnsureToken();
            var router = new Router(TimeProvider.System);
            var control = new RouterControl(router, files.StateFile);
            var admin = await RouterAdmin.StartAsync(control, files, token, (_, _) => Task.FromResult(new HandoverAnswer(false, null, "not expected")), TimeProvider.System, default);
            files.WritePid(Environment.ProcessId);
            var store = SqliteStore.Open(Path.Combine(data, "gantry.db"), TimeProvider.System, null);
            RouterProcess Process() => new(files, new RouterLaunch("/bin/false", []), store, TimeProvider.System, NullLogger<RouterProcess>.Instance);
            var shared = new SharedRouter { Router = router, Control = control, Leader = Process(), Replica = Process() };
            shared.owned.AddRange([shared.Replica, shared.Leader, store, admin, router]);
            await shared.Leader.StartAsync(default);
            await shared.Replica.StartAsync(default);
            return shared;
        }

        public async ValueTask DisposeAsync()
        {
            foreach (var item in owned)
            {
                await item.DisposeAsync();
            }

            Control.Dispose();
        }
    }
}

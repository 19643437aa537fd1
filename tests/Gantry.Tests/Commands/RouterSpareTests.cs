using System.Diagnostics;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Traffic;
using Gantry.Proxy.Control;
using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary><c>gantry router --data DIR --spare</c>: a warmed-up router that serves the moment the running one ends.</summary>
public sealed class RouterSpareTests(ITestOutputHelper log) : IDisposable
{
    private readonly string data = Directory.CreateTempSubdirectory("gantry-spare-test-").FullName;

    public void Dispose()
    {
        foreach (var pid in new[] { Files.LiveSparePid(), Files.LivePid() })
        {
            if (pid is { } alive)
            {
                using var process = Process.GetProcessById(alive);
                process.Kill();
            }
        }

        Directory.Delete(data, recursive: true);
    }

    private RouterFiles Files => new(data);

    [Fact(Timeout = 120_000)]
    public async Task RouterKilled_TheSpareServesItsTableAtOnce_AndOnlyOneSpareWaits()
    {
        var ct = TestContext.Current.CancellationToken;
        await using var backend = await ShopInstance.StartAsync(new Dictionary<string, string> { ["APP_VERSION"] = "v1" }, ct);
        var (router, listen) = await StartRouterAsync(backend.Port, ct);
        await using (router)
        {
            await using var spare = await StartSpareAsync();
            Files.LiveSparePid().Should().Be(spare.Id);

            var second = await ChildProcess.RunAsync("dotnet", [RepoPaths.GantryDll, "router", "--data", data, "--spare"], TimeSpan.FromSeconds(60));
            second.ExitCode.Should().Be(0, second.Stderr);
            second.Stdout.Should().Contain($"a spare (pid {spare.Id}) already waits");

            Process.GetProcessById(router.Id).Kill();
            var watch = Stopwatch.StartNew();
            await Wait.UntilAsync(() => Task.FromResult(FreePort.Accepts(listen) && Files.LivePid() == spare.Id), TimeSpan.FromSeconds(10), "the spare serves");
            log.WriteLine($"router killed: the spare serves after {watch.ElapsedMilliseconds} ms");
            watch.Elapsed.Should().BeLessThan(TimeSpan.FromSeconds(2), "the spare has its runtime started and its code compiled (a new router process needs 0.5-0.8 s of CPU)");

            using var admin = new RouterAdminClient(Files, Files.EnsureToken());
            var status = await admin.StatusAsync(ct);
            status.FromSpare.Should().BeTrue("the control plane records a takeover from what the router says of itself");
            status.TookOverAfter.Should().BeLessThan(watch.Elapsed, "measured by the spare from the router's end to its table served");
            status.Pid.Should().Be(spare.Id);
            (await admin.TableAsync(ct)).Version.Should().Be(1, "the last table in force, read from its state file");
            using var http = new HttpClient();
            (await http.GetStringAsync(new Uri($"http://127.0.0.1:{listen}/"), ct)).Should().Contain("v1");
            Files.LiveSparePid().Should().BeNull("the spare became the router");
        }
    }

    [Fact(Timeout = 120_000)]
    public async Task SpareStopped_ItExitsWithoutTakingOver_SoARouterStoppedAfterItStaysStopped()
    {
        var ct = TestContext.Current.CancellationToken;
        var (router, _) = await StartRouterAsync(FreePort.Next(), ct);
        await using (router)
        {
            await using var spare = await StartSpareAsync();

            (await RouterSpare.StopAsync(Files, TimeProvider.System, ct)).Should().Be(spare.Id);
            await Wait.UntilAsync(() => Task.FromResult(spare.HasExited), TimeSpan.FromSeconds(10), "the spare is reaped");
            spare.ExitCode.Should().Be(0, spare.Stderr);
            Files.LivePid().Should().Be(router.Id, "stopping the spare leaves the router serving");

            Process.GetProcessById(router.Id).Kill();
            await Wait.UntilAsync(() => Task.FromResult(router.HasExited), TimeSpan.FromSeconds(10), "the router ends");
            await Task.Delay(TimeSpan.FromSeconds(1), ct);
            Files.LivePid().Should().BeNull("no spare was left to take over");
        }
    }

    private async Task<(ChildProcess Router, int Listen)> StartRouterAsync(int backend, CancellationToken ct)
    {
        var router = ChildProcess.Start("dotnet", [RepoPaths.GantryDll, "router", "--data", data]);
        await Wait.UntilAsync(() => Task.FromResult(Files.LivePid() == router.Id), TimeSpan.FromSeconds(60), "the router serves");
        using var admin = new RouterAdminClient(Files, Files.EnsureToken());
        var listen = FreePort.Next();
        var route = new TrafficRoute("shop.default", new Endpoint("127.0.0.1", listen), [new TrafficBackend("v1", 1, [new Endpoint("127.0.0.1", backend)])], [], null, null, TimeSpan.FromSeconds(2));
        (await admin.ApplyAsync(new RouteTable(1, [route]), ct)).Applied.Should().BeTrue();
        return (router, listen);
    }

    private async Task<ChildProcess> StartSpareAsync()
    {
        var spare = ChildProcess.Start("dotnet", [RepoPaths.GantryDll, "router", "--data", data, "--spare"]);
        await Wait.UntilAsync(() => Task.FromResult(spare.Stdout.Contains("ready to serve", StringComparison.Ordinal)), TimeSpan.FromSeconds(60), "the spare is ready");
        return spare;
    }
}

using System.Diagnostics;
using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Audit;
using Gantry.Core.Rollouts;
using Gantry.Proxy.Control;
using Gantry.Runtime.Process;
using Gantry.Server;
using Gantry.Server.Hosting;
using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>
/// The data plane outlives the control plane: <c>gantry server</c> killed with SIGKILL under load, with a canary at
/// 50%, and started again; the router process killed and restarted; the router upgraded under load; a service
/// removed from the manifest while the server was away. Real processes throughout: the server, the router, the sample.
/// </summary>
public sealed class DataPlaneTests(ITestOutputHelper log) : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-dataplane-").FullName;
    private readonly int listen = FreePort.Next();

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string Manifest(string service = "shop") => $$"""
        version: 1
        services:
          {{service}}:
            {{SampleService.Process(4)}}
            listen: 127.0.0.1:{{listen}}
            replicas: 2
            health:
              startup:   { path: /health, interval: 100ms, failureThreshold: 100 }
              readiness: { path: /health/ready, interval: 200ms }
            strategy:
              canary:
                steps: [{ setWeight: 50 }, { pause: {} }]
        """;

    private async Task<(ServerProcess Server, string ManifestPath)> StartAsync(params string[] extra)
    {
        var path = Path.Combine(folder, "gantry.yaml");
        await File.WriteAllTextAsync(path, Manifest());
        var server = new ServerProcess(Path.Combine(folder, "data"), FreePort.Next());
        await server.StartAsync(path, extra);
        return (server, path);
    }

    /// <summary>No spare: the server is told of the router's end by its pidfd and starts a new one at once (not at its next look).</summary>
    [Fact(Timeout = 300_000)]
    public async Task Router_KilledWithNoSpare_IsStartedAgainByTheServerWithinASecond()
    {
        var (server, _) = await StartAsync("--no-router-spare");
        await using (server)
        {
            await server.WaitForAsync(await server.DeployAsync("1.0"), RolloutPhase.Succeeded);
            var files = new RouterFiles(server.Data);
            var killed = files.LivePid()!.Value;
            files.LiveSparePid().Should().BeNull("no spare is kept");

            Process.GetProcessById(killed).Kill();
            var watch = Stopwatch.StartNew();
            await WaitUntilAsync(() => RouterProcesses(server.Data).Any(pid => pid != killed), TimeSpan.FromSeconds(2));
            var noticed = watch.Elapsed;
            await WaitUntilAsync(() => FreePort.Accepts(listen) && files.LivePid() is { } pid && pid != killed, TimeSpan.FromSeconds(10));
            log.WriteLine($"router killed with no spare: a new one started after {noticed.TotalMilliseconds:0} ms, serving after {watch.Elapsed.TotalMilliseconds:0} ms");
            noticed.Should().BeLessThan(TimeSpan.FromMilliseconds(500), "the server is told of the router's end at once, not at its next look");
            AuditEvent? restarted = null;
            await WaitUntilAsync(async () => (restarted = (await server.Api.GetFromJsonAsync<List<AuditEvent>>("/api/v1/audit?target=router", GantryJson.Options))!
                .Find(e => e.Action == "router.restarted" && e.Detail.Contains($"(pid {killed})", StringComparison.Ordinal))) is not null, TimeSpan.FromSeconds(10));
            var recorded = int.Parse(System.Text.RegularExpressions.Regex.Match(restarted!.Detail, @"after (\d+) ms").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            recorded.Should().BeLessThanOrEqualTo((int)Math.Ceiling(watch.Elapsed.TotalMilliseconds), "the gap is measured from the router's end, as the kernel told it");
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task ServerKilled_UnderLoad_NoRequestFailsAndTheInstancesAreAdoptedWithTheirPids()
    {
        var (server, manifest) = await StartAsync();
        await using (server)
        {
            var first = await server.WaitForAsync(await server.DeployAsync("1.0"), RolloutPhase.Succeeded);
            var pids = first.Instances.Select(i => i.ProcessId).Order().ToList();
            await using var load = new SteadyLoad(new Uri($"http://127.0.0.1:{listen}/"));

            // Down 5 s with a stable release.
            await server.StopAsync(kill: true);
            var before = load.Requests;
            await Task.Delay(TimeSpan.FromSeconds(5));
            (load.Requests - before).Should().BeGreaterThan(100, "traffic flows while the server is down");
            await server.StartAsync(manifest);
            var adopted = await server.WaitForViewAsync(first.Rollout.Id, v => v.Instances.Count == 2 && v.Instances.All(i => i.Phase == Core.Runtime.InstancePhase.Ready));
            adopted.Instances.Select(i => i.ProcessId).Order().Should().Equal(pids, "the restarted server adopts the running instances");

            // Down 5 s in the middle of a canary at 50%: the split holds, and the rollout goes on from where it was.
            var canary = await server.DeployAsync("2.0");
            var paused = await server.WaitForViewAsync(canary, v => v.Rollout.Waits.Count > 0 && v.Traffic.Any(t => t.Version == "2.0" && t.Weight == 50));
            var canaryPids = paused.Instances.Select(i => i.ProcessId).Order().ToList();
            await server.StopAsync(kill: true);
            var split = new Dictionary<string, long>(load.Versions);
            await Task.Delay(TimeSpan.FromSeconds(5));
            var during = load.Versions.ToDictionary(p => p.Key, p => p.Value - split.GetValueOrDefault(p.Key));
            log.WriteLine($"while the server was down: {string.Join(", ", during.Select(p => $"{p.Key}: {p.Value}"))}");
            var share = (double)during.GetValueOrDefault("2.0") / during.Values.Sum();
            share.Should().BeInRange(0.4, 0.6, "the router keeps the 50% split without its control plane");
            await server.StartAsync(manifest);
            var resumed = await server.WaitForViewAsync(canary, v => v.Instances.Count == paused.Instances.Count && v.Instances.All(i => i.Phase == Core.Runtime.InstancePhase.Ready));
            resumed.Rollout.Step.Should().Be(paused.Rollout.Step);
            resumed.Instances.Select(i => i.ProcessId).Order().Should().Equal(canaryPids);
            using (var promote = await server.Api.PostAsJsonAsync($"/api/v1/rollouts/{canary}/promote", new CommandRequest("test"), GantryJson.Options))
            {
                promote.IsSuccessStatusCode.Should().BeTrue(await promote.Content.ReadAsStringAsync());
            }

            await server.WaitForAsync(canary, RolloutPhase.Succeeded);
            await Task.Delay(TimeSpan.FromSeconds(1));
            load.Errors.Should().BeEmpty("no request fails while the control plane is down or comes back");
            log.WriteLine($"{load.Requests} requests, none failed");
        }
    }

    [Fact(Timeout = 300_000)]
    public async Task Router_KilledIsBackWithinASecondWithItsSplit_AndAnUpgradeUnderLoadDropsNothing()
    {
        var (server, _) = await StartAsync();
        int lastSpare;
        await using (server)
        {
            await server.WaitForAsync(await server.DeployAsync("1.0"), RolloutPhase.Succeeded);
            var canary = await server.DeployAsync("2.0");
            await server.WaitForViewAsync(canary, v => v.Rollout.Waits.Count > 0 && v.Traffic.Any(t => t.Version == "2.0" && t.Weight == 50));
            var files = new RouterFiles(server.Data);
            using var admin = new RouterAdminClient(files, files.EnsureToken());
            var table = await admin.TableAsync(default);

            // SIGKILL: the warmed-up spare serves the last table at once; the server records it and starts a new spare.
            var killed = files.LivePid()!.Value;
            await WaitUntilAsync(() => files.LiveSparePid() is { } waiting && File.ReadAllText(files.LogFile).Contains($"spare pid {waiting} ready", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            var spare = files.LiveSparePid()!.Value;
            Process.GetProcessById(killed).Kill();
            var watch = Stopwatch.StartNew();
            await WaitUntilAsync(() => FreePort.Accepts(listen) && files.LivePid() is { } pid && pid != killed, TimeSpan.FromSeconds(10));
            var gap = watch.Elapsed;
            log.WriteLine($"router killed: serving again after {gap.TotalMilliseconds:0} ms");
            gap.Should().BeLessThan(TimeSpan.FromSeconds(2), "the spare takes over the moment the router ends (typically under 100 ms here; a new process takes 0.5-0.8 s)");
            files.LivePid().Should().Be(spare, "the spare took over");
            (await admin.TableAsync(default)).Routes.Should().Equal(table.Routes, "the last verified table, the canary's split exactly");
            await WaitUntilAsync(async () => (await server.Api.GetFromJsonAsync<List<AuditEvent>>("/api/v1/audit?target=router", GantryJson.Options))!.Exists(e => e.Action == "router.restarted"), TimeSpan.FromSeconds(10));
            await WaitUntilAsync(() => files.LiveSparePid() is { } next && next != spare, TimeSpan.FromSeconds(60));

            // Upgrade under load: the successor takes the listening sockets; not one request fails.
            await using (var load = new SteadyLoad(new Uri($"http://127.0.0.1:{listen}/")))
            {
                await Task.Delay(TimeSpan.FromSeconds(1));
                var old = files.LivePid()!.Value;
                var upgrade = await ChildProcess.RunAsync("dotnet", [RepoPaths.GantryDll, "router", "--data", server.Data, "--upgrade"], TimeSpan.FromSeconds(60));
                upgrade.ExitCode.Should().Be(0, upgrade.Stderr);
                upgrade.Stdout.Should().Contain($"pid {old} finishes the requests it has");
                upgrade.Stdout.Should().Contain("replaced by one of", "a spare of the old version would take over with it");
                await WaitUntilAsync(() => !Process.GetProcesses().Any(p => p.Id == old), TimeSpan.FromSeconds(40));
                await Task.Delay(TimeSpan.FromSeconds(1));
                load.Errors.Should().BeEmpty();
                load.Versions.Keys.Should().BeEquivalentTo("1.0", "2.0");
                log.WriteLine($"upgrade: {load.Requests} requests, none failed; router pid {old} -> {files.LivePid()}");
            }

            (await admin.TableAsync(default)).Routes.Should().Equal(table.Routes);
            await WaitUntilAsync(() => files.LiveSparePid() is not null, TimeSpan.FromSeconds(60));
            lastSpare = files.LiveSparePid()!.Value;
        }

        // gantry down (the fixture's end) stops the spare before the router: neither outlives the test.
        Process.GetProcesses().Select(p => p.Id).Should().NotContain(lastSpare);
        new RouterFiles(server.Data).LivePid().Should().BeNull();
    }

    [Fact(Timeout = 300_000)]
    public async Task ServiceRemovedWhileTheServerWasAway_ItsInstancesAreDrainedAndStoppedWithAnAuditRecord()
    {
        var (server, manifest) = await StartAsync();
        await using (server)
        {
            var first = await server.WaitForAsync(await server.DeployAsync("1.0"), RolloutPhase.Succeeded);
            await server.StopAsync(kill: false);
            first.Instances.Should().OnlyContain(i => Orphans.Find(GantryServer.OwnerOf(server.Data)).Contains(i.ProcessId!.Value), "a stopped server leaves its instances serving");

            await File.WriteAllTextAsync(manifest, Manifest("catalog"));
            // From before the start: the server may sweep before it answers as ready (on a loaded machine, a second or more).
            var watch = Stopwatch.StartNew();
            await server.StartAsync(manifest);
            await WaitUntilAsync(async () => (await server.Api.GetFromJsonAsync<List<AuditEvent>>("/api/v1/audit?target=shop", GantryJson.Options))!
                .Exists(e => e.Action == "instances.orphaned" && e.Detail.StartsWith("2 instance(s) of shop 1.0 in default", StringComparison.Ordinal)), TimeSpan.FromSeconds(30));
            watch.Elapsed.Should().BeGreaterThan(OrphanSweeper.Drain - TimeSpan.FromSeconds(1), "orphans are drained first, not killed on sight");
            Orphans.Find(GantryServer.OwnerOf(server.Data)).Should().BeEmpty();
        }
    }


    /// <summary>The router processes of a data directory (from their command lines), the one killed included until it is gone.</summary>
    private static List<int> RouterProcesses(string data) =>
        [.. Directory.GetDirectories("/proc").Select(d => int.TryParse(Path.GetFileName(d), out var pid) ? pid : 0).Where(pid => pid > 0 && CommandLine(pid).Contains($"router\0--data\0{data}", StringComparison.Ordinal))];

    private static string CommandLine(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline");
        }
        catch (IOException)
        {
            return string.Empty;
        }
        catch (UnauthorizedAccessException)
        {
            return string.Empty;
        }
    }

    private static Task WaitUntilAsync(Func<bool> condition, TimeSpan timeout) => WaitUntilAsync(() => Task.FromResult(condition()), timeout);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (!await condition())
        {
            watch.Elapsed.Should().BeLessThan(timeout);
            await Task.Delay(10);
        }
    }
}

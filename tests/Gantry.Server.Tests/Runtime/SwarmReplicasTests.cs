using System.Diagnostics;
using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Rollouts;
using Gantry.Testing;

namespace Gantry.Server.Tests.Runtime;

/// <summary>
/// Two <c>gantry server</c> replicas as on two machines: one PostgreSQL store, a data directory and a router each
/// (the second's on 127.0.0.2), driving a real two-node swarm. The leader of a canary at 50% is killed with SIGKILL
/// under load on both routers: the other takes over within 5 s and finds the same swarm services (marked with the
/// store's name, not a machine's), the split holds on both routers, no request fails; the killed replica comes back,
/// its router is brought up to date, and the promotion reaches both routers.
/// </summary>
[Collection(ServerTests.Name)]
public sealed class SwarmReplicasTests(ITestOutputHelper log)
{
    [RequiresBinaryFact("dockerd", "docker.io", Timeout = 300_000)]
    public async Task LeaderKilledMidCanary_TheOtherMachinesReplicaTakesTheSameSwarmServicesOver_BothRoutersHoldTheSplit()
    {
        await using var swarm = await SwarmCluster.StartAsync("1.0", "2.0");
        await using var postgres = await PostgresServer.StartAsync();
        var url = await postgres.CreateDatabaseAsync("swarm");
        var folder = Directory.CreateTempSubdirectory("gantry-swarm-replicas-").FullName;
        var listen = new Core.Manifest.Values.Endpoint("127.0.0.1", FreePort.Next());
        var manifest = Path.Combine(folder, "gantry.yaml");
        await File.WriteAllTextAsync(manifest, SwarmRolloutTests.Manifest(listen, "[{ setWeight: 50 }, { pause: {} }]"));
        var env = new Dictionary<string, string> { ["DOCKER_HOST"] = swarm.Manager };
        await using var a = new ServerProcess(Path.Combine(folder, "a"), FreePort.Next(), env);
        await using var b = new ServerProcess(Path.Combine(folder, "b"), FreePort.Next(), env);
        try
        {
            await a.StartAsync(manifest, "--store", url, "--replica", "a");
            await LeaderAsync([a], TimeSpan.FromSeconds(10));
            await b.StartAsync(manifest, "--store", url, "--replica", "b", "--router-address", "127.0.0.2");
            await a.WaitForAsync(await b.DeployAsync("1.0"), RolloutPhase.Succeeded);
            // The pass that commits the first release's success applies the table with its instances after that commit,
            // and a follower's router gets it at its feed's next pass: a moment when the release has succeeded and a
            // router still has no instance for it (a CI run's load through b's router began in it: 13 answers 503).
            await a.WaitForRoutersAsync(TimeSpan.FromSeconds(20));
            using (var probe = new HttpClient { Timeout = TimeSpan.FromSeconds(5) })
            {
                foreach (var host in new[] { "127.0.0.1", "127.0.0.2" })
                {
                    await Wait.UntilAsync(
                        async () =>
                        {
                            using var answer = await probe.GetAsync(new Uri($"http://{host}:{listen.Port}/"));
                            return answer.IsSuccessStatusCode;
                        },
                        TimeSpan.FromSeconds(20),
                        $"the router on {host} serves 1.0");
                }
            }

            await using var loadA = new SteadyLoad(new Uri($"http://127.0.0.1:{listen.Port}/"));
            await using var loadB = new SteadyLoad(new Uri($"http://127.0.0.2:{listen.Port}/"));
            var canary = await b.DeployAsync("2.0");
            var paused = await a.WaitForViewAsync(canary, v => v.Rollout.Waits.Count > 0 && v.Traffic.Any(t => t.Version == "2.0" && t.Weight == 50), TimeSpan.FromMinutes(2));
            await loadB.WaitForRequestsAsync(100, TimeSpan.FromSeconds(20));
            var services = await ServicesAsync(swarm);
            services.Should().HaveCount(2, "one swarm service per release set");

            var (splitA, splitB) = (Snapshot(loadA), Snapshot(loadB));
            Mark("killing replica a");
            await a.StopAsync(kill: true);
            var watch = Stopwatch.StartNew();
            await LeaderAsync([b], TimeSpan.FromSeconds(10));
            var takeover = watch.Elapsed;
            var resumed = await b.WaitForViewAsync(canary, v => v.Instances.Count == paused.Instances.Count && v.Instances.All(i => i.Phase == Core.Runtime.InstancePhase.Ready), TimeSpan.FromSeconds(30));
            await loadB.WaitForRequestsAsync(300, TimeSpan.FromSeconds(30));
            log.WriteLine($"replica b leads {takeover.TotalMilliseconds:0} ms after replica a was killed");
            takeover.Should().BeLessThan(TimeSpan.FromSeconds(5));
            resumed.Rollout.Step.Should().Be(paused.Rollout.Step);
            (await ServicesAsync(swarm)).Should().Equal(services, "the same swarm services, found by the store's mark, none started twice");
            resumed.Instances.Select(i => i.Address.ToString()).Order(StringComparer.Ordinal).Should().Equal(paused.Instances.Select(i => i.Address.ToString()).Order(StringComparer.Ordinal), "the same tasks serve");
            Share(loadA, splitA).Should().BeInRange(0.35, 0.65, "a's router, its replica dead, keeps serving the split");
            Share(loadB, splitB).Should().BeInRange(0.35, 0.65, "b's router holds the split through the takeover");

            // a comes back (as a supervisor would restart it): a standby whose router gets the tables again.
            Mark("restarting replica a");
            await a.StartAsync(manifest, "--store", url, "--replica", "a");
            await Wait.UntilAsync(async () => (await b.ClusterAsync()).Replicas.Count(r => r.Alive && r.TableError is null) == 2, TimeSpan.FromSeconds(20), "both replicas report the table");
            Mark("promoting");
            using (var promote = await b.Api.PostAsJsonAsync($"/api/v1/rollouts/{canary}/promote", new CommandRequest("after the failover"), GantryJson.Options))
            {
                promote.IsSuccessStatusCode.Should().BeTrue(await promote.Content.ReadAsStringAsync());
            }

            await b.WaitForViewAsync(canary, v => v.Rollout.Phase == RolloutPhase.Succeeded && v.Instances.All(i => i.Version == "2.0"), TimeSpan.FromMinutes(2));
            // The switch is in force on the leader's router at once, on the other's at its feed's next pass.
            await b.WaitForRoutersAsync(TimeSpan.FromSeconds(20));
            await loadA.SettleAsync(TimeSpan.FromSeconds(20));
            await loadB.SettleAsync(TimeSpan.FromSeconds(20));
            var (doneA, doneB) = (Snapshot(loadA), Snapshot(loadB));
            await loadA.WaitForRequestsAsync(100, TimeSpan.FromSeconds(20));
            await loadA.SettleAsync(TimeSpan.FromSeconds(20));
            await loadB.SettleAsync(TimeSpan.FromSeconds(20));
            Share(loadA, doneA).Should().Be(1.0, "a's router has the promotion");
            Share(loadB, doneB).Should().Be(1.0);
            Mark("promoted");
            loadA.Errors.Should().BeEmpty("no request through a's router failed");
            loadB.Errors.Should().BeEmpty("no request through b's router failed");
            log.WriteLine($"{loadA.Requests} requests through a's router, {loadB.Requests} through b's, none failed");
            log.WriteLine(await a.Api.GetStringAsync(new Uri("/api/v1/cluster", UriKind.Relative)));
        }
        catch
        {
            // What each replica logged, to set beside the requests' errors (each stamped with its time).
            log.WriteLine($"replica a's log:\n{Tail(a.Log)}\nreplica b's log:\n{Tail(b.Log)}");
            throw;
        }
        finally
        {
            // Each replica's data directory goes only after `gantry down` has read its router's and spare's pid files from it.
            await a.DisposeAsync();
            await b.DisposeAsync();
            Directory.Delete(folder, recursive: true);
        }
    }

    private void Mark(string what) => log.WriteLine($"{DateTime.UtcNow:HH:mm:ss.fff} {what}");

    private static string Tail(string text) => text.Length > 20_000 ? text[^20_000..] : text;

    private static Dictionary<string, long> Snapshot(SteadyLoad load) => new(load.Versions);

    private static double Share(SteadyLoad load, Dictionary<string, long> since)
    {
        var during = load.Versions.ToDictionary(p => p.Key, p => p.Value - since.GetValueOrDefault(p.Key));
        return (double)during.GetValueOrDefault("2.0") / Math.Max(1, during.Values.Sum());
    }

    /// <summary>The swarm services of the sample service, "ID NAME", in order.</summary>
    private static async Task<List<string>> ServicesAsync(SwarmCluster swarm)
    {
        var listed = await swarm.DockerAsync(1, ["service", "ls", "--filter", "label=org.gantry.service=shop", "--format", "{{.ID}} {{.Name}}"]);
        return [.. listed.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)];
    }


    private static async Task LeaderAsync(IReadOnlyList<ServerProcess> servers, TimeSpan timeout) =>
        await Wait.UntilAsync(async () =>
        {
            foreach (var server in servers)
            {
                try
                {
                    if ((await server.ClusterAsync()).Leading)
                    {
                        return true;
                    }
                }
                catch (HttpRequestException)
                {
                    // Starting.
                }
            }

            return false;
        }, timeout, "a replica leads");
}

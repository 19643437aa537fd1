using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Rollouts;
using Gantry.Proxy.Control;
using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>
/// Two <c>gantry server</c> replicas on one PostgreSQL store, each with its own data directory and so its own router
/// (as on two machines; here the second listens on 127.0.0.2 with <c>--router-address</c>), in front of the sample
/// service under load on both routers. Every table the leader puts in force reaches the other replica's router through
/// the store; a split counts only once both routers have it: with the standby's router frozen, the canary's first step
/// waits, and goes on once it answers again. The standby shows the leader's instances (its own machine runs none). A
/// replica that dies is not waited for. Real processes throughout.
/// </summary>
public sealed class ReplicaRoutersTests(ITestOutputHelper log) : WithPostgres("gantry-routers-")
{
    private readonly int listen = FreePort.Next();

    [Fact(Timeout = 300_000)]
    public async Task EachReplicasRouter_GetsTheLeadersTable_AndEverySplitWaitsForEveryLiveRouter()
    {
        var manifest = await CanaryManifestAsync(listen);
        var url = await Postgres.CreateDatabaseAsync("routers");
        await using var a = new ServerProcess(Path.Combine(Folder, "a"), FreePort.Next());
        await using var b = new ServerProcess(Path.Combine(Folder, "b"), FreePort.Next());
        await a.StartAsync(manifest, "--store", url, "--replica", "a");
        await WaitAsync(async () => (await ClusterAsync(a)).Leading, "replica a leads");
        await b.StartAsync(manifest, "--store", url, "--replica", "b", "--router-address", "127.0.0.2");

        await a.WaitForAsync(await b.DeployAsync("1.0"), RolloutPhase.Succeeded);
        await a.WaitForRoutersAsync(TimeSpan.FromSeconds(20)); // the first release succeeds as its table is applied
        await using var loadA = new SteadyLoad(new Uri($"http://127.0.0.1:{listen}/"));
        await WaitAsync(() => AnswersAsync(new Uri($"http://127.0.0.2:{listen}/")), "b's router serves a's instances from the table a published");

        // b's router frozen (SIGSTOP): the canary's split is published and in force on a's router, but the step waits for b's.
        var routerB = new RouterFiles(b.Data).LivePid() ?? throw new InvalidOperationException("b has no router");
        await SignalAsync("STOP", routerB);
        string canary;
        try
        {
            canary = await b.DeployAsync("2.0");
            var waiting = await a.WaitForViewAsync(canary, v => v.Rollout.Message.EndsWith("setWeight 50: waiting for the router to confirm the split is in force", StringComparison.Ordinal), TimeSpan.FromSeconds(60));
            await Task.Delay(TimeSpan.FromSeconds(2));
            var still = (await a.Api.GetFromJsonAsync<RolloutView>($"/api/v1/rollouts/{canary}", GantryJson.Options))!;
            (still.Rollout.Message, still.Rollout.Step).Should().Be((waiting.Rollout.Message, waiting.Rollout.Step), "b's router has not verified the split: the step holds");
            still.Rollout.Waits.Should().BeEmpty();
            (await ClusterAsync(a)).Replicas.Should().Contain(r => r.Name == "b" && r.Alive && r.TableError != null, "b reports its router behind");
            log.WriteLine($"router b frozen: {ClusterCommandText(await ClusterAsync(a))}");
        }
        finally
        {
            await SignalAsync("CONT", routerB);
        }

        await a.WaitForViewAsync(canary, v => v.Rollout.Waits.Count > 0 && v.Traffic.Any(t => t.Version == "2.0" && t.Weight == 50));
        await using var loadB = new SteadyLoad(new Uri($"http://127.0.0.2:{listen}/"));
        var splitA = Snapshot(loadA);
        await loadB.WaitForRequestsAsync(300, TimeSpan.FromSeconds(30));
        Share(loadA, splitA).Should().BeInRange(0.35, 0.65, "a's router splits the canary");
        Share(loadB, []).Should().BeInRange(0.35, 0.65, "b's router has the same table");
        var seenByA = await a.WaitForViewAsync(canary, _ => true);
        await b.WaitForViewAsync(canary, v => v.Instances.Count == seenByA.Instances.Count && v.Traffic.SequenceEqual(seenByA.Traffic), TimeSpan.FromSeconds(10));
        var cluster = await ClusterAsync(b);
        cluster.Replicas.Should().HaveCount(2).And.OnlyContain(r => r.Alive && r.Table == cluster.Table && r.TableError == null, "both routers have the table in force");
        log.WriteLine(ClusterCommandText(cluster));

        await Post(a, $"/api/v1/rollouts/{canary}/promote");
        await a.WaitForAsync(canary, RolloutPhase.Succeeded);
        // The switch is in force on the leader's router at once, on the other's at its feed's next pass.
        await a.WaitForRoutersAsync(TimeSpan.FromSeconds(20));
        await loadA.SettleAsync(TimeSpan.FromSeconds(20));
        await loadB.SettleAsync(TimeSpan.FromSeconds(20));
        var (doneA, doneB) = (Snapshot(loadA), Snapshot(loadB));
        await loadB.WaitForRequestsAsync(100, TimeSpan.FromSeconds(20));
        await loadB.SettleAsync(TimeSpan.FromSeconds(20));
        Share(loadB, doneB).Should().Be(1.0, "b's router has the promotion too");
        Share(loadA, doneA).Should().Be(1.0);
        await a.WaitForViewAsync(canary, v => v.Instances.All(i => i.Version == "2.0"), TimeSpan.FromSeconds(30));
        loadA.Errors.Should().BeEmpty();
        loadB.Errors.Should().BeEmpty("b's router lost no request");
        log.WriteLine($"{loadA.Requests} requests through a's router, {loadB.Requests} through b's, none failed");

        // b dies: once it is silent, a no longer waits for its router.
        await b.StopAsync(kill: true);
        var third = await a.DeployAsync("3.0");
        var watch = Stopwatch.StartNew();
        await a.WaitForViewAsync(third, v => v.Rollout.Waits.Count > 0 && v.Traffic.Any(t => t.Version == "3.0" && t.Weight == 50));
        log.WriteLine($"3.0 at 50% {watch.Elapsed.TotalSeconds:0.0} s after b died");
        (await ClusterAsync(a)).Replicas.Should().ContainSingle(r => r.Name == "b").Which.Alive.Should().BeFalse();
        loadA.Errors.Should().BeEmpty();
        loadB.Errors.Should().BeEmpty("b's router, its replica gone, keeps serving its last table");
    }

    private static Dictionary<string, long> Snapshot(SteadyLoad load) => new(load.Versions);

    /// <summary>The share of the newest version among the answers since <paramref name="since"/>.</summary>
    private static double Share(SteadyLoad load, Dictionary<string, long> since)
    {
        var during = load.Versions.ToDictionary(p => p.Key, p => p.Value - since.GetValueOrDefault(p.Key));
        return (double)during.GetValueOrDefault("2.0") / Math.Max(1, during.Values.Sum());
    }

    private static string ClusterCommandText(ClusterView view) => Gantry.Commands.ClusterCommand.Describe(view);

    private static async Task<ClusterView> ClusterAsync(ServerProcess server) =>
        (await server.Api.GetFromJsonAsync<ClusterView>("/api/v1/cluster", GantryJson.Options))!;

    private static async Task Post(ServerProcess server, string path)
    {
        using var response = await server.Api.PostAsJsonAsync(path, new CommandRequest("checked"), GantryJson.Options);
        response.IsSuccessStatusCode.Should().BeTrue(await response.Content.ReadAsStringAsync());
    }

    private static async Task<bool> AnswersAsync(Uri url)
    {
        using var client = new HttpClient();
        try
        {
            using var response = await client.GetAsync(url);
            return response.IsSuccessStatusCode;
        }
        catch (HttpRequestException)
        {
            return false;
        }
    }

    private static async Task SignalAsync(string signal, int pid)
    {
        using var kill = Process.Start("kill", [$"-{signal}", pid.ToString(CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync();
    }

    private static Task WaitAsync(Func<Task<bool>> condition, string what) => Wait.UntilAsync(condition, TimeSpan.FromSeconds(20), what);
}

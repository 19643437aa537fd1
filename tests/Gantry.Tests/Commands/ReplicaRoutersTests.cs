using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Rollouts;
using Gantry.Proxy.Control;
using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>
/// Two and three <c>gantry server</c> replicas on one PostgreSQL store, each with its own data directory and so its own
/// router (as on several machines; here the second listens on 127.0.0.2, the third on 127.0.0.3, with
/// <c>--router-address</c>), in front of the sample service under load on every router. Every table the leader puts in
/// force reaches the others' routers through the store; a split counts only once every live router has it: with b's
/// router frozen, the canary's first step waits, and goes on once it answers again. A standby shows the leader's
/// instances (its own machine runs none). A replica that dies is not waited for. Real processes throughout.
/// </summary>
public sealed class ReplicaRoutersTests(ITestOutputHelper log) : WithPostgres("gantry-routers-")
{
    private readonly int listen = FreePort.Next();

    [Theory(Timeout = 300_000)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task EachReplicasRouter_GetsTheLeadersTable_AndEverySplitWaitsForEveryLiveRouter(int count)
    {
        var manifest = await CanaryManifestAsync(listen);
        var url = await Postgres.CreateDatabaseAsync("routers");
        var names = Enumerable.Range(0, count).Select(i => ((char)('a' + i)).ToString()).ToList();
        var servers = names.Select(n => new ServerProcess(Path.Combine(Folder, n), FreePort.Next())).ToList();
        var fronts = Enumerable.Range(0, count).Select(i => new Uri($"http://127.0.0.{i + 1}:{listen}/")).ToList();
        var loads = new List<SteadyLoad>();
        var (a, b) = (servers[0], servers[1]);
        try
        {
            await a.StartAsync(manifest, "--store", url, "--replica", "a");
            await WaitAsync(async () => (await a.ClusterAsync()).Leading, "replica a leads");
            for (var i = 1; i < count; i++)
            {
                await servers[i].StartAsync(manifest, "--store", url, "--replica", names[i], "--router-address", fronts[i].Host);
            }

            await a.WaitForAsync(await b.DeployAsync("1.0"), RolloutPhase.Succeeded);
            await a.WaitForRoutersAsync(TimeSpan.FromSeconds(60)); // the first release succeeds as its table is applied (slower with three replicas on a busy machine)
            loads.Add(new SteadyLoad(fronts[0]));
            foreach (var front in fronts.Skip(1))
            {
                await WaitAsync(() => AnswersAsync(front), $"the router on {front.Host} serves a's instances from the table a published");
            }

            // b's router frozen (SIGSTOP): the canary's split is published and in force on the others, but the step waits for b's.
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
                (await a.ClusterAsync()).Replicas.Should().Contain(r => r.Name == "b" && r.Alive && r.TableError != null, "b reports its router behind");
                log.WriteLine($"router b frozen: {ClusterCommandText(await a.ClusterAsync())}");
            }
            finally
            {
                await SignalAsync("CONT", routerB);
            }

            await a.WaitForViewAsync(canary, v => v.Rollout.Waits.Count > 0 && v.Traffic.Any(t => t.Version == "2.0" && t.Weight == 50));
            var split = Snapshot(loads[0]);
            loads.AddRange(fronts.Skip(1).Select(f => new SteadyLoad(f)));
            await loads[^1].WaitForRequestsAsync(300, TimeSpan.FromSeconds(30));
            Share(loads[0], split).Should().BeInRange(0.35, 0.65, "a's router splits the canary");
            loads.Skip(1).Select(l => Share(l, [])).Should().OnlyContain(share => share >= 0.35 && share <= 0.65, "every other router has the same table");
            var seenByA = await a.WaitForViewAsync(canary, _ => true);
            await b.WaitForViewAsync(canary, v => v.Instances.Count == seenByA.Instances.Count && v.Traffic.SequenceEqual(seenByA.Traffic), TimeSpan.FromSeconds(10));
            var cluster = await b.ClusterAsync();
            cluster.Replicas.Should().HaveCount(count).And.OnlyContain(r => r.Alive && r.Table == cluster.Table && r.TableError == null, "every router has the table in force");
            log.WriteLine(ClusterCommandText(cluster));

            await Post(a, $"/api/v1/rollouts/{canary}/promote");
            await a.WaitForAsync(canary, RolloutPhase.Succeeded);
            // The switch is in force on the leader's router at once, on the others' at their feeds' next pass.
            // Succeeded is shown as its table is published: wait for every router to have that one, then for a span of
            // requests answered by 2.0 alone through every router.
            await Wait.UntilAsync(async () =>
            {
                await a.WaitForRoutersAsync(TimeSpan.FromSeconds(20));
                foreach (var load in loads)
                {
                    await load.SettleAsync(TimeSpan.FromSeconds(20));
                }

                var done = loads.Select(Snapshot).ToList();
                await loads[^1].WaitForRequestsAsync(100, TimeSpan.FromSeconds(20));
                foreach (var load in loads)
                {
                    await load.SettleAsync(TimeSpan.FromSeconds(20));
                }

                return loads.Select((l, i) => Share(l, done[i])).All(share => share == 1.0);
            }, TimeSpan.FromSeconds(60), "every router has the promotion");
            await a.WaitForViewAsync(canary, v => v.Instances.All(i => i.Version == "2.0"), TimeSpan.FromSeconds(30));
            loads.SelectMany(l => l.Errors).Should().BeEmpty("no router lost a request");
            log.WriteLine($"{string.Join(", ", loads.Select((l, i) => $"{l.Requests} through {names[i]}'s router"))}: none failed");

            // b dies: once it is silent, a no longer waits for its router.
            await b.StopAsync(kill: true);
            var third = await a.DeployAsync("3.0");
            var watch = Stopwatch.StartNew();
            await a.WaitForViewAsync(third, v => v.Rollout.Waits.Count > 0 && v.Traffic.Any(t => t.Version == "3.0" && t.Weight == 50));
            log.WriteLine($"3.0 at 50% {watch.Elapsed.TotalSeconds:0.0} s after b died");
            (await a.ClusterAsync()).Replicas.Should().ContainSingle(r => r.Name == "b").Which.Alive.Should().BeFalse();
            loads.SelectMany(l => l.Errors).Should().BeEmpty("b's router, its replica gone, keeps serving its last table");
        }
        finally
        {
            foreach (var load in loads)
            {
                await load.DisposeAsync();
            }

            foreach (var server in servers)
            {
                await server.DisposeAsync();
            }
        }
    }

    private static Dictionary<string, long> Snapshot(SteadyLoad load) => new(load.Versions);

    /// <summary>The share of the newest version among the answers since <paramref name="since"/>.</summary>
    private static double Share(SteadyLoad load, Dictionary<string, long> since)
    {
        var during = load.Versions.ToDictionary(p => p.Key, p => p.Value - since.GetValueOrDefault(p.Key));
        return (double)during.GetValueOrDefault("2.0") / Math.Max(1, during.Values.Sum());
    }

    private static string ClusterCommandText(ClusterView view) => Gantry.Commands.ClusterCommand.Describe(view);


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

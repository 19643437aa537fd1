using System.Diagnostics;
using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Audit;
using Gantry.Core.Rollouts;
using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>
/// Two and three <c>gantry server</c> replicas on one PostgreSQL store and one data directory, in front of the sample
/// service under load: the replica driving a canary at 50% is killed with SIGKILL (and, with three, the next one too);
/// another takes over within 5 s with the same instances, the split holds, no request fails, every event is written
/// once and the audit chain verifies. Real processes throughout.
/// </summary>
public sealed class ReplicaFailoverTests(ITestOutputHelper log) : WithPostgres("gantry-replicas-")
{
    private readonly int listen = FreePort.Next();

    [Theory(Timeout = 300_000)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task LeaderKilledMidCanaryUnderLoad_AnotherTakesOverWithin5s_SplitHolds_NothingLostOrWrittenTwice(int count)
    {
        var manifest = await CanaryManifestAsync(listen);
        var url = await Postgres.CreateDatabaseAsync("replicas");
        var data = Path.Combine(Folder, "data");
        var replicas = Enumerable.Range(0, count).Select(i => (Name: ((char)('a' + i)).ToString(), Server: new ServerProcess(data, FreePort.Next()))).ToList();
        try
        {
            foreach (var (name, server) in replicas)
            {
                await server.StartAsync(manifest, "--store", url, "--replica", name);
            }

            var leader = await LeaderAsync(replicas, TimeSpan.FromSeconds(10));
            var standby = replicas.First(r => r != leader).Server;
            await leader.Server.WaitForAsync(await standby.DeployAsync("1.0"), RolloutPhase.Succeeded);
            await using var load = new SteadyLoad(new Uri($"http://127.0.0.1:{listen}/"));
            var canary = await standby.DeployAsync("2.0");
            var paused = await leader.Server.WaitForViewAsync(canary, v => v.Rollout.Waits.Count > 0 && v.Traffic.Any(t => t.Version == "2.0" && t.Weight == 50));
            var pids = paused.Instances.Select(i => i.ProcessId).Order().ToList();

            for (var kill = 1; kill < count; kill++)
            {
                var split = new Dictionary<string, long>(load.Versions);
                // The replica that leads now, and the lease's token: on a starved machine the lease may have changed
                // hands since the last look (a holder that could not renew within 3 s), so the one killed is the
                // leader of this moment and the takeover is one more than its token, not a fixed number.
                var alive = replicas.Where(r => r.Server.Process is not null).ToList();
                (leader, var before) = await LeaderAndTokenAsync(alive, TimeSpan.FromSeconds(10));
                await leader.Server.StopAsync(kill: true);
                var watch = Stopwatch.StartNew();
                alive = replicas.Where(r => r.Server.Process is not null).ToList();
                leader = await LeaderAsync(alive, TimeSpan.FromSeconds(10));
                var takeover = watch.Elapsed;
                var resumed = await leader.Server.WaitForViewAsync(canary, v => v.Instances.Count == paused.Instances.Count && v.Instances.All(i => i.Phase == Core.Runtime.InstancePhase.Ready));
                var during = load.Versions.ToDictionary(p => p.Key, p => p.Value - split.GetValueOrDefault(p.Key));
                log.WriteLine($"kill {kill}: replica {leader.Name} leads {takeover.TotalMilliseconds:0} ms after the kill; meanwhile {string.Join(", ", during.Select(p => $"{p.Key}: {p.Value}"))}");
                takeover.Should().BeLessThan(TimeSpan.FromSeconds(5), "the lease lasts 3 s and a standby looks twice a second");
                resumed.Rollout.Step.Should().Be(paused.Rollout.Step);
                resumed.Instances.Select(i => i.ProcessId).Order().Should().Equal(pids, "the new leader takes the same instances back");
                ((double)during.GetValueOrDefault("2.0") / during.Values.Sum()).Should().BeInRange(0.4, 0.6, "the split holds through the takeover");
                var cluster = await GantryCliTests.RunAsync("cluster", "--server", leader.Server.Api.BaseAddress!.ToString(), "--data", data);
                (cluster.Exit, cluster.Err).Should().Be((ExitCodes.Success, string.Empty));
                var lines = cluster.Out.Trim().Split('\n');
                lines[0].Should().MatchRegex($@"^replica {leader.Name} leads \(lease token {before + 1}, held until \d\d:\d\d:\d\d UTC\); this server is replica {leader.Name}, the leader$");
                lines[1].Should().MatchRegex($@"^router table \d+, published by [a-c]$");
                lines.Should().Contain($"  replica {leader.Name}: alive, its router has table {lines[1].Split(' ')[2].TrimEnd(',')}", "one router, shared by the replicas of this data directory, has the table");
            }

            using (var promote = await leader.Server.Api.PostAsJsonAsync($"/api/v1/rollouts/{canary}/promote", new CommandRequest("after the failover"), GantryJson.Options))
            {
                promote.IsSuccessStatusCode.Should().BeTrue(await promote.Content.ReadAsStringAsync());
            }

            await leader.Server.WaitForAsync(canary, RolloutPhase.Succeeded);
            await Task.Delay(TimeSpan.FromSeconds(1));
            load.Errors.Should().BeEmpty("no request fails while the leader dies and another takes over");
            log.WriteLine($"{load.Requests} requests, none failed");

            var events = (await leader.Server.Api.GetFromJsonAsync<List<StoredEvent>>($"/api/v1/rollouts/{canary}/events", GantryJson.Options))!;
            events.Select(e => e.Seq).Should().Equal(Enumerable.Range(1, events.Count), "every event once, none lost");
            events.Select(e => e.Type).Should().Contain(RolloutEventType.Succeeded.ToString()).And.ContainSingle(t => t == RolloutEventType.Succeeded.ToString());
            var audit = (await leader.Server.Api.GetFromJsonAsync<AuditVerification>("/api/v1/audit/verify", GantryJson.Options))!;
            audit.Intact.Should().BeTrue(audit.Message);

            // A killed replica that comes back stands by.
            var back = replicas.First(r => r.Server.Process is null);
            await back.Server.StartAsync(manifest, "--store", url, "--replica", back.Name);
            (await back.Server.ClusterAsync()).Should().Match<ClusterView>(c => !c.Leading && c.Leader == leader.Name);
            var twin = await ChildProcess.RunAsync("dotnet", [RepoPaths.GantryDll, "server", "-f", manifest, "--data", data, "--store", url, "--replica", leader.Name, "--listen", $"127.0.0.1:{FreePort.Next()}"], TimeSpan.FromSeconds(60));
            (twin.ExitCode, twin.Stderr.Trim()).Should().Be((ExitCodes.Failed, $"gantry: a gantry server alone, or replica '{leader.Name}', is using the data directory {data} (give each replica its own --replica name)"));
        }
        finally
        {
            foreach (var (_, server) in replicas)
            {
                await server.StopAsync(kill: false);
            }

            foreach (var (_, server) in replicas)
            {
                await server.DisposeAsync();
            }
        }
    }

    /// <summary>The replica that says it leads, once one does.</summary>
    private static async Task<(string Name, ServerProcess Server)> LeaderAsync(IReadOnlyList<(string Name, ServerProcess Server)> replicas, TimeSpan timeout) =>
        (await LeaderAndTokenAsync(replicas, timeout)).Leader;

    /// <summary>The replica that says it leads, once one does, with the lease token it holds.</summary>
    private static async Task<((string Name, ServerProcess Server) Leader, long Token)> LeaderAndTokenAsync(IReadOnlyList<(string Name, ServerProcess Server)> replicas, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            foreach (var replica in replicas)
            {
                try
                {
                    if (await replica.Server.ClusterAsync() is { Leading: true, Token: { } token })
                    {
                        return (replica, token);
                    }
                }
                catch (HttpRequestException)
                {
                    // Not answering (killed, or starting).
                }
            }

            await Task.Delay(50);
        }

        throw new TimeoutException("no replica leads");
    }
}

using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Rollouts;
using Gantry.Runtime.Process;
using Gantry.Server;
using Gantry.Server.Rollouts;
using Gantry.Testing;

namespace Gantry.Tests.Commands;

/// <summary>
/// <c>gantry server</c> killed with SIGKILL at random points of canaries, and started again on the same
/// data: every rollout ends as it should, the instances a killed server left are adopted or stopped (none is left
/// behind), and every
/// rollout's events are numbered without gaps, with no step recorded twice.
/// </summary>
public sealed class ServerCrashTests(ITestOutputHelper log) : IDisposable
{
    private const int Runs = 20;
    private readonly string folder = Directory.CreateTempSubdirectory("gantry-crash-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private string Data => Path.Combine(folder, "data");

    [Fact(Timeout = 600_000)]
    public async Task Server_KilledAtRandomPointsOfCanaries_ResumesEveryRolloutWithoutOrphansOrDuplicateEvents()
    {
        var listen = FreePort.Next();
        var apiPort = FreePort.Next();
        var manifest = Path.Combine(folder, "gantry.yaml");
        await File.WriteAllTextAsync(manifest, $$"""
            version: 1
            services:
              shop:
                {{SampleService.Process(4)}}
                listen: 127.0.0.1:{{listen}}
                replicas: 1
                health:
                  startup:   { path: /health, interval: 100ms, failureThreshold: 100 }
                  readiness: { path: /health/ready, interval: 200ms }
                progressDeadline: 2m
                strategy:
                  canary:
                    steps: [{ setWeight: 30 }, { pause: { duration: 1s } }, { setWeight: 60 }, { pause: { duration: 1s } }]
                    abortScaleDownDelay: 1s
            """);
        var random = new Random(20261122);
        var server = new ServerProcess(Data, apiPort);
        await using (server)
        {
            await server.StartAsync(manifest);
            await server.WaitForAsync(await server.DeployAsync("v0"), RolloutPhase.Succeeded);
            for (var run = 1; run <= Runs; run++)
            {
                var abort = run % 2 == 0;
                var id = await server.DeployAsync($"v{run}");
                var killAfter = TimeSpan.FromMilliseconds(random.Next(0, 3500));
                var abortAfter = TimeSpan.FromMilliseconds(random.Next(0, (int)killAfter.TotalMilliseconds + 1));
                if (abort)
                {
                    await Task.Delay(abortAfter);
                    using var response = await server.Api.PostAsJsonAsync($"/api/v1/rollouts/{id}/abort", new CommandRequest("crash test"), GantryJson.Options);
                    response.IsSuccessStatusCode.Should().BeTrue(await response.Content.ReadAsStringAsync());
                    await Task.Delay(killAfter - abortAfter);
                }
                else
                {
                    await Task.Delay(killAfter);
                }

                await server.StopAsync(kill: true);
                log.WriteLine($"run {run}: {(abort ? $"abort at {abortAfter.TotalMilliseconds} ms, " : string.Empty)}SIGKILL at {killAfter.TotalMilliseconds} ms");

                await server.StartAsync(manifest);
                server.Process!.Stdout.Should().NotContain("error");
                var end = await server.WaitForAsync(id, abort ? RolloutPhase.Aborted : RolloutPhase.Succeeded);
                if (abort)
                {
                    end.Rollout.Message.Should().Be("aborted by local-admin: crash test");
                }

                // Settle: the aborted canary or the replaced stable set is stopped after its delay; what a killed server
                // left running was adopted or stopped, never left behind.
                var stable = abort ? $"v{run - 1}" : $"v{run}";
                var settled = await server.WaitForViewAsync(id, v => v.Instances.Count == 1 && v.Instances.All(i => i.Version == stable && i.Phase == Core.Runtime.InstancePhase.Ready));
                await EventuallyOnlyAsync(settled.Instances.Select(i => i.ProcessId!.Value).ToList());
                await CheckEventsAsync(server.Api, id, abort);
            }

            await server.StopAsync(kill: false);
            Orphans.Find(GantryServer.OwnerOf(Data)).Should().HaveCount(1, "a server stopped with SIGTERM leaves its data plane serving");
        }

        Orphans.Find(GantryServer.OwnerOf(Data)).Should().BeEmpty("gantry down stops the instances a server left");
    }

    /// <summary>The marked processes are the live server's own instances (an instance being stopped may take a moment to go).</summary>
    private async Task EventuallyOnlyAsync(IReadOnlyList<int> pids)
    {
        var watch = Stopwatch.StartNew();
        while (Orphans.Find(GantryServer.OwnerOf(Data)).Except(pids).Any() && watch.Elapsed < TimeSpan.FromSeconds(15))
        {
            await Task.Delay(100);
        }

        Orphans.Find(GantryServer.OwnerOf(Data)).Should().BeEquivalentTo(pids, "only the live server's own instance runs");
    }

    private static async Task CheckEventsAsync(HttpClient api, string id, bool aborted)
    {
        var events = (await api.GetFromJsonAsync<List<StoredEvent>>($"/api/v1/rollouts/{id}/events", GantryJson.Options))!;
        events.Select(e => e.Seq).Should().Equal(Enumerable.Range(1, events.Count), "events are numbered without gaps");
        events.Count(e => e.Type == "Created").Should().Be(1);
        events.Where(e => e.Type is "Succeeded" or "Aborted" or "Failed").Select(e => e.Type).Should().Equal(aborted ? "Aborted" : "Succeeded");
        events.Last().Type.Should().Be("ScaledDown", string.Join("\n", events.Select(e => $"{e.Seq} {e.Type} {e.Message}")));
        events.Where(e => e.Message.StartsWith("step ", StringComparison.Ordinal)).GroupBy(e => e.Type + e.Message)
            .Should().NotContain(g => g.Count() > 1, "no step is recorded twice");
    }
}

using System.Net.Http.Json;
using Gantry.Api;
using Gantry.Core.Rollouts;
using Gantry.Core.Runtime;
using Gantry.Testing;

namespace Gantry.Server.Tests.Runtime;

/// <summary>
/// Rollouts on a real two-node Docker Swarm (network namespaces joined by a veth pair): each release set a swarm
/// service, its tasks spread over both nodes and reached by the server's router at their nodes' addresses.
/// </summary>
[Collection(ServerTests.Name)]
public sealed class SwarmRolloutTests(ITestOutputHelper log)
{
    internal static string Manifest(Core.Manifest.Values.Endpoint listen, string steps, int replicas = 2) => $$"""
        version: 1
        services:
          shop:
            swarm:
              image: "gantry-shop:{version}"
              env: { ASPNETCORE_URLS: "http://0.0.0.0:{port}", APP_VERSION: "{version}" }
              stopTimeout: 5s
              memory: 256
              placement:
                spread: [node.labels.zone]
            listen: {{listen}}
            replicas: {{replicas}}
            health:
              readiness: { path: /health/ready, interval: 200ms, timeout: 1s, failureThreshold: 2 }
            progressDeadline: 2m
            strategy:
              canary:
                steps: {{steps}}
        """;

    [RequiresBinaryFact("dockerd", "docker.io", Timeout = 300_000)]
    public async Task Canary_AcrossBothNodes_UnderLoad_NoClientError_ThenRollback_AndAFaultyReleaseAborted()
    {
        await using var swarm = await SwarmCluster.StartAsync("1.0", "2.0");
        using var host = swarm.AsDockerHost();
        await using var h = await ServerHarness.StartAsync(listen => Manifest(listen, "[{ setWeight: 50 }, { pause: { duration: 3s } }]"));
        var first = await h.DeployAsync("1.0");
        var stable = await h.WaitForPhaseAsync(first.Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromMinutes(2));
        stable.Instances.Select(i => i.Address.Host).Should().BeEquivalentTo(SwarmCluster.NodeAddresses, "the set's two tasks are spread over both nodes");
        await using var load = new SteadyLoad(h.Front);
        await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));

        var second = await h.DeployAsync("2.0");
        await h.WaitAsync(second.Rollout.Id, v => v.Traffic.Any(t => t.Version == "2.0" && t.Weight == 50), TimeSpan.FromMinutes(1));
        await h.WaitForPhaseAsync(second.Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromMinutes(2));
        var promoted = await h.WaitAsync(second.Rollout.Id, v => v.Instances.Count == 2 && v.Instances.All(i => i.Version == "2.0"), TimeSpan.FromMinutes(1));
        promoted.Instances.Select(i => i.Address.Host).Should().BeEquivalentTo(SwarmCluster.NodeAddresses, "the new release's tasks are spread over both nodes too");
        await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));
        load.Errors.Should().BeEmpty("the canary across nodes moves traffic without a client error");
        load.Versions.Keys.Should().Contain(["1.0", "2.0"]);
        var services = await swarm.DockerAsync(1, ["service", "ls", "--filter", "label=org.gantry.service=shop", "--format", "{{.Name}} {{.Replicas}}"]);
        services.Stdout.Trim().Split('\n').Should().ContainSingle("the 1.0 service was removed once drained").Which.Should().EndWith("2/2");
        var user = await swarm.DockerAsync(1, ["service", "inspect", "--format", "{{.Spec.TaskTemplate.ContainerSpec.User}}", services.Stdout.Split(' ')[0]]);
        user.Stdout.Trim().Should().Be("65534:65534", "tasks never run as root");

        var rollback = await h.CommandAsync("rollback", new RollbackRequest(Reason: "numbers"));
        await h.WaitForPhaseAsync(rollback.Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromMinutes(2));
        await load.SettleAsync(TimeSpan.FromSeconds(20)); // a request sent to 2.0 before the last table may still be answered
        var seen = load.Versions["2.0"];
        await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));
        load.Errors.Should().BeEmpty("the rollback too moves traffic without a client error");
        load.Versions["2.0"].Should().Be(seen, "after the rollback every request is answered by 1.0");

        // An image no node has and no registry serves: the engine rejects its tasks, the rollout fails at once, 1.0 keeps serving.
        var missing = await h.DeployAsync("9.9");
        var failed = await h.WaitForPhaseAsync(missing.Rollout.Id, RolloutPhase.Failed, TimeSpan.FromSeconds(60));
        failed.Rollout.Message.Should().StartWith("9.9 cannot start: ").And.Contain("gantry-shop:9.9");

        // A release whose tasks keep dying (past their memory limit): the swarm restarts them, Gantry counts it and aborts.
        var hungry = await h.DeployAsync("2.0", new Dictionary<string, string> { ["FAULT_ALLOCATE_MB"] = "400" });
        var aborted = await h.WaitForPhaseAsync(hungry.Rollout.Id, RolloutPhase.Aborted, TimeSpan.FromMinutes(2));
        aborted.Rollout.Message.Should().StartWith("2.0 failed its health checks");
        await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));
        load.Errors.Should().BeEmpty("1.0 kept serving while 2.0 was failing");
    }

    /// <summary>
    /// The worker's engine killed (kill -9) with the canary at 50%: the swarm declares the node down and starts its
    /// tasks again on the manager; Gantry takes the lost node's tasks out of traffic, waits for the new ones to be
    /// ready, and the canary's analysis, which judges the canary's own requests, passes: the rollout succeeds.
    /// </summary>
    [RequiresBinaryFact("dockerd", "docker.io", Timeout = 300_000)]
    public async Task NodeLostAtFiftyPercent_TasksMoveToTheOtherNode_AndTheRolloutSucceeds()
    {
        await using var swarm = await SwarmCluster.StartAsync("1.0", "2.0");
        using var host = swarm.AsDockerHost();

        // Each look reads the last interval + 1 s of the canary's requests. With a 1 s interval a look saw between 1 and 2 s
        // of traffic, and on a CI machine running Chromium beside two engines one look found no canary request in it: the
        // look had no data and the run was inconclusive (the harness now prints the rollout's events when a wait times out, to tell a
        // stalled client from a canary out of traffic). A 2 s interval gives each look 2 to 3 s of traffic, and still one
        // look in a CI run found none, so one look without data is tolerated: a look that sees the canary's requests fail
        // still fails the run, and the client's answers second by second are printed if the rollout does not succeed.
        await using var h = await ServerHarness.StartAsync(listen => Manifest(listen, "[{ setWeight: 50 }, { pause: {} }, { analysis: { templates: [errors] } }]") + """

            analysis:
              errors:
                interval: 2s
                count: 3
                inconclusiveLimit: 1
                metrics:
                  - name: error-rate
                    provider: { builtin: { query: error_rate } }
                    failWhen: "> 1%"
            """);
        var first = await h.DeployAsync("1.0");
        await h.WaitForPhaseAsync(first.Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromMinutes(2));
        await using var load = new SteadyLoad(h.Front);
        await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));
        var second = await h.DeployAsync("2.0");
        var paused = await h.WaitAsync(second.Rollout.Id, v => v.Rollout.Phase == RolloutPhase.Paused && v.Traffic.Any(t => t.Version == "2.0" && t.Weight == 50 && t.Ready == 1), TimeSpan.FromMinutes(1));
        var onTheWorker = paused.Instances.Where(i => i.Address.Host == "10.231.0.2").Select(i => i.Id).ToList();
        onTheWorker.Should().NotBeEmpty("the stable set is spread over both nodes");

        (await swarm.KillEngineAsync(2)).ExitCode.Should().Be(0);
        var moved = await h.WaitAsync(second.Rollout.Id, v => v.Instances.Count(i => i.Phase == InstancePhase.Ready && i.Address.Host == "10.231.0.1") == 3, TimeSpan.FromSeconds(90));
        moved.Instances.Should().NotContain(i => onTheWorker.Contains(i.Id), "the lost node's tasks were replaced by new ones on the manager");
        moved.Traffic.Should().Contain(t => t.Version == "2.0" && t.Weight == 50 && t.Ready == 1, "the split held while the tasks moved");
        moved.Rollout.Phase.Should().Be(RolloutPhase.Paused, "a lost node is not the release's fault");

        await h.CommandAsync("promote");
        RolloutView done;
        try
        {
            done = await h.WaitForPhaseAsync(second.Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromMinutes(2));
        }
        catch (TimeoutException ex)
        {
            throw new TimeoutException($"{ex.Message}; the client's answers by second: {load.Timeline(180)}", ex);
        }

        var run = (await h.Api.GetFromJsonAsync<List<Core.Analysis.AnalysisRunRecord>>($"/api/v1/rollouts/{done.Rollout.Id}/analysis", GantryJson.Options))!.Single();
        run.Phase.Should().Be(Core.Analysis.AnalysisPhase.Successful, "the canary's own requests did not fail");
        var settled = await h.WaitAsync(second.Rollout.Id, v => v.Instances.Count == 2 && v.Instances.All(i => i.Version == "2.0" && i.Phase == InstancePhase.Ready), TimeSpan.FromSeconds(60));
        settled.Instances.Should().OnlyContain(i => i.Address.Host == "10.231.0.1", "only the manager's node is left");
        await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));
        load.Errors.Should().BeEmpty("the lost node's tasks kept serving until they were taken out of traffic");
    }

    /// <summary>An operator drains the worker with the canary at 50%: the swarm moves its tasks to the manager, Gantry follows and the rollout goes on.</summary>
    [RequiresBinaryFact("dockerd", "docker.io", Timeout = 300_000)]
    public async Task NodeDrainedAtFiftyPercent_TasksMove_AndTheRolloutGoesOn()
    {
        await using var swarm = await SwarmCluster.StartAsync("1.0", "2.0");
        using var host = swarm.AsDockerHost();
        await using var h = await ServerHarness.StartAsync(listen => Manifest(listen, "[{ setWeight: 50 }, { pause: {} }]"));
        await h.WaitForPhaseAsync((await h.DeployAsync("1.0")).Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromMinutes(2));
        await using var load = new SteadyLoad(h.Front);
        await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));
        var second = await h.DeployAsync("2.0");
        await h.WaitAsync(second.Rollout.Id, v => v.Rollout.Phase == RolloutPhase.Paused && v.Traffic.Any(t => t.Version == "2.0" && t.Ready == 1), TimeSpan.FromMinutes(1));

        var worker = (await swarm.DockerAsync(2, ["info", "--format", "{{.Swarm.NodeID}}"])).Stdout.Trim();
        (await swarm.DockerAsync(1, ["node", "update", "--availability", "drain", worker])).ExitCode.Should().Be(0);
        var moved = await h.WaitAsync(second.Rollout.Id, v => v.Instances.Count == 3 && v.Instances.All(i => i.Phase == InstancePhase.Ready && i.Address.Host == "10.231.0.1"), TimeSpan.FromSeconds(60));
        moved.Rollout.Phase.Should().Be(RolloutPhase.Paused);
        moved.Traffic.Should().Contain(t => t.Version == "2.0" && t.Weight == 50 && t.Ready == 1);
        await h.CommandAsync("promote");
        await h.WaitForPhaseAsync(second.Rollout.Id, RolloutPhase.Succeeded, TimeSpan.FromMinutes(1));
        await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));
        log.WriteLine($"client errors while the worker was drained: {load.Errors.Count} of {load.Requests} requests");
        load.Errors.Should().BeEmpty("tasks on a drained node are taken out of traffic as the swarm stops them");
    }
}

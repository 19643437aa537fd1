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
public sealed class SwarmRolloutTests
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
              readiness: { path: /health/ready, interval: 200ms, timeout: 500ms, failureThreshold: 2 }
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
        var seen = load.Versions["2.0"];
        await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));
        load.Errors.Should().BeEmpty("the rollback too moves traffic without a client error");
        load.Versions["2.0"].Should().Be(seen, "after the rollback every request is answered by 1.0");

        // A release whose tasks keep dying (past their memory limit): the swarm restarts them, Gantry counts it and aborts.
        var hungry = await h.DeployAsync("2.0", new Dictionary<string, string> { ["FAULT_ALLOCATE_MB"] = "400" });
        var aborted = await h.WaitForPhaseAsync(hungry.Rollout.Id, RolloutPhase.Aborted, TimeSpan.FromMinutes(2));
        aborted.Rollout.Message.Should().StartWith("2.0 failed its health checks");
        await load.WaitForRequestsAsync(50, TimeSpan.FromSeconds(20));
        load.Errors.Should().BeEmpty("1.0 kept serving while 2.0 was failing");
    }
}

using System.Security.Cryptography;
using System.Text;
using Gantry.Core.Manifest;
using Gantry.Core.Runtime;
using Gantry.Runtime.Docker;
using Gantry.Runtime.Swarm;
using Gantry.Testing;

namespace Gantry.Server.Tests.Runtime;

/// <summary>The swarm runtime on its own, on a real two-node swarm: scaling, secrets, logs, adoption by a new control plane, a drained node.</summary>
[Collection(ServerTests.Name)]
public sealed class SwarmRuntimeTests
{
    private const string Owner = "swarm-runtime-test";

    [RequiresBinaryFact("dockerd", "docker.io", Timeout = 300_000)]
    public async Task ScaledFromTwoToFour_SpreadOverNodes_SecretsAsFiles_AdoptedByANewRuntime_AndMovedOffADrainedNode()
    {
        await using var swarm = await SwarmCluster.StartAsync("1.0");
        var service = ManifestLoader.LoadText(SwarmRolloutTests.Manifest(new("127.0.0.1", FreePort.Next()), "[{ setWeight: 50 }]")).Manifest!.Services[0];
        var spec = new InstanceSetSpec(service, "default", "1.0", 2, Path.GetTempPath(), new Dictionary<string, string> { ["SHOP_PAYMENT_KEY"] = "s3cret-value" })
        {
            Secrets = new HashSet<string> { "SHOP_PAYMENT_KEY" },
        };
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var runtime = new SwarmRuntime(new DockerEngine(swarm.Manager), Owner, TimeProvider.System);
        try
        {
            await runtime.EnsureAsync(spec, CancellationToken.None);
            var two = await ReadyAsync(runtime, 2);
            two.Select(i => i.Address.Host).Should().BeEquivalentTo(SwarmCluster.NodeAddresses, "spread over the zones of the two nodes");

            var key = await http.GetStringAsync($"http://{two[0].Address}/payment-key");
            key.Trim().Should().Be("sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes("s3cret-value"))), "the secret is a file the task reads");
            var inspect = await swarm.DockerAsync(1, ["service", "inspect", SwarmServiceBody.NameOf(Owner, spec.SetId)]);
            inspect.Stdout.Should().Contain("SHOP_PAYMENT_KEY_FILE=/run/secrets/SHOP_PAYMENT_KEY").And.NotContain("s3cret-value", "a secret never shows in the service's spec");

            await runtime.EnsureAsync(spec with { Replicas = 4 }, CancellationToken.None);
            var four = await ReadyAsync(runtime, 4);
            four.GroupBy(i => i.Address.Host).Should().HaveCount(2).And.OnlyContain(g => g.Count() == 2, "two tasks per node");
            four.Select(i => i.Address).Should().OnlyHaveUniqueItems("each slot has a port of its own");
            (await runtime.LogsAsync(four[0].Id, CancellationToken.None)).Should().Contain(l => l.Contains("listening on", StringComparison.Ordinal));
        }
        finally
        {
            await runtime.DisposeAsync();
        }

        // A new control plane finds the service by its labels and takes back the same tasks.
        var next = new SwarmRuntime(new DockerEngine(swarm.Manager), Owner, TimeProvider.System);
        try
        {
            var before = runtime.Observe().Select(i => i.Id).ToHashSet();

            // Taken back on a busy machine: the tasks do not answer the first probe (frozen for 2.5 s). They served until
            // now, so they are judged by the readiness threshold (3 probes, a second apart), not by one slow answer: the
            // new control plane's first table has them. (Judged by one probe, they were all starting, and every router
            // answered 503 until the next pass.)
            var slow = spec.Service with { Health = spec.Service.Health with { Readiness = new ProbeSpec("/health/ready", TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1), 3, TimeSpan.Zero) } };
            var frozen = await FreezeAsync(swarm, SwarmServiceBody.NameOf(Owner, spec.SetId));
            frozen.Should().Be(4);
            var thaw = Task.Run(async () =>
            {
                await Task.Delay(TimeSpan.FromSeconds(2.5));
                await ThawAsync(swarm, SwarmServiceBody.NameOf(Owner, spec.SetId));
            });
            var taken = await next.EnsureAsync(spec with { Replicas = 4, Service = slow }, CancellationToken.None);
            await thaw;
            taken.Should().HaveCount(4).And.OnlyContain(i => i.Phase == InstancePhase.Ready, "tasks that served until now stay in traffic through one slow probe");
            taken.Select(i => i.Id).Should().BeEquivalentTo(before, "the same tasks, not new ones");
            var adopted = await ReadyAsync(next, 4);
            adopted.Select(i => i.Id).Should().BeEquivalentTo(before, "the same tasks, not new ones");

            // A service removed behind Gantry's back is forgotten by the watch and created again by the next pass.
            (await swarm.DockerAsync(1, ["service", "rm", SwarmServiceBody.NameOf(Owner, spec.SetId)])).ExitCode.Should().Be(0);
            await Wait.UntilAsync(() => Task.FromResult(next.Observe().Count == 0), TimeSpan.FromSeconds(20), "the removed service forgotten");
            await next.EnsureAsync(spec with { Replicas = 4 }, CancellationToken.None);
            (await ReadyAsync(next, 4)).Select(i => i.Id).Should().NotIntersectWith(before, "new tasks of a new service");

            // An operator drains the worker: the swarm moves its tasks to the manager, Gantry follows them.
            var worker = (await swarm.DockerAsync(2, ["info", "--format", "{{.Swarm.NodeID}}"])).Stdout.Trim();
            (await swarm.DockerAsync(1, ["node", "update", "--availability", "drain", worker])).ExitCode.Should().Be(0);
            var drained = await ReadyAsync(next, 4, onlyOn: "10.231.0.1");
            drained.Select(i => i.Address).Should().OnlyHaveUniqueItems("four slots, four ports on one node");

            await next.StopAsync(spec.SetId, CancellationToken.None);
            next.Observe().Should().BeEmpty();
            (await swarm.DockerAsync(1, ["service", "ls", "-q"])).Stdout.Trim().Should().BeEmpty("the set's service is removed");
            await Wait.UntilAsync(async () => (await swarm.DockerAsync(1, ["secret", "ls", "-q"])).Stdout.Trim().Length == 0, TimeSpan.FromSeconds(30), "the set's secrets removed once its tasks are gone");

            // What gantry down does: every service of the owner goes, and only its.
            await next.EnsureAsync(spec with { Replicas = 1 }, CancellationToken.None);
            using var engine = new DockerEngine(swarm.Manager);
            (await SwarmRuntime.RemoveAllAsync(engine, "another-owner", TimeProvider.System, CancellationToken.None)).Should().Be(0);
            (await SwarmRuntime.RemoveAllAsync(engine, Owner, TimeProvider.System, CancellationToken.None)).Should().Be(1);
            (await swarm.DockerAsync(1, ["service", "ls", "-q"])).Stdout.Trim().Should().BeEmpty();
        }
        finally
        {
            await next.DisposeAsync();
        }
    }

    /// <summary>With a registry, each node's engine pulls the image itself: here one on this machine's end of the swarm's link, never loaded onto a node.</summary>
    [RequiresBinaryFact("docker-registry", "docker-registry", Timeout = 300_000)]
    public async Task WithARegistry_EachNodePullsTheImage()
    {
        await using var swarm = await SwarmCluster.StartAsync();
        await using var registry = await ImageRegistry.StartAsync("10.231.1.1");
        await swarm.PushShopImageAsync("4.0", registry.Address);
        var text = SwarmRolloutTests.Manifest(new("127.0.0.1", FreePort.Next()), "[{ setWeight: 50 }]").Replace("gantry-shop:{version}", $"{registry.Address}/gantry-shop:{{version}}", StringComparison.Ordinal);
        var service = ManifestLoader.LoadText(text).Manifest!.Services[0];
        var runtime = new SwarmRuntime(new DockerEngine(swarm.Manager), Owner, TimeProvider.System);
        try
        {
            await runtime.EnsureAsync(new InstanceSetSpec(service, "default", "4.0", 2, Path.GetTempPath(), new Dictionary<string, string>()), CancellationToken.None);
            (await ReadyAsync(runtime, 2)).Select(i => i.Address.Host).Should().BeEquivalentTo(SwarmCluster.NodeAddresses);
            foreach (var node in new[] { 1, 2 })
            {
                (await swarm.DockerAsync(node, ["image", "ls", "-q", $"{registry.Address}/gantry-shop:4.0"])).Stdout.Trim().Should().NotBeEmpty($"node {node} pulled the image");
            }
        }
        finally
        {
            await runtime.DisposeAsync();
        }
    }

    [RequiresBinaryFact("dockerd", "docker.io", Timeout = 120_000)]
    public async Task AnEngineOutsideASwarm_IsOneClearLine_AndNothingStarts()
    {
        await using var daemon = await DockerDaemon.StartAsync();
        using var host = daemon.AsDockerHost();
        var start = () => ServerHarness.StartAsync(listen => SwarmRolloutTests.Manifest(listen, "[{ setWeight: 50 }]"));
        (await start.Should().ThrowAsync<InvalidOperationException>()).Which.Message.Should().Be($"the Docker engine at {daemon.Host} is not part of a swarm (docker swarm init)");
    }

    /// <summary>Pauses the running containers of a swarm service on both nodes (their processes frozen); how many.</summary>
    private static async Task<int> FreezeAsync(SwarmCluster swarm, string service)
    {
        var count = 0;
        foreach (var node in new[] { 1, 2 })
        {
            var ids = (await swarm.DockerAsync(node, ["ps", "-q", "--filter", $"label=com.docker.swarm.service.name={service}"])).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (ids.Length > 0)
            {
                (await swarm.DockerAsync(node, ["pause", .. ids])).ExitCode.Should().Be(0);
            }

            count += ids.Length;
        }

        return count;
    }

    private static async Task ThawAsync(SwarmCluster swarm, string service)
    {
        foreach (var node in new[] { 1, 2 })
        {
            var ids = (await swarm.DockerAsync(node, ["ps", "-q", "--filter", $"label=com.docker.swarm.service.name={service}", "--filter", "status=paused"])).Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            if (ids.Length > 0)
            {
                await swarm.DockerAsync(node, ["unpause", .. ids]);
            }
        }
    }

    private static async Task<IReadOnlyList<InstanceStatus>> ReadyAsync(SwarmRuntime runtime, int count, string? onlyOn = null)
    {
        IReadOnlyList<InstanceStatus> ready = [];
        await Wait.UntilAsync(() =>
        {
            var all = runtime.Observe();
            ready = [.. all.Where(i => i.Phase == InstancePhase.Ready && (onlyOn is null || i.Address.Host == onlyOn))];
            return Task.FromResult(ready.Count == count && all.Count == count);
        }, TimeSpan.FromSeconds(90), $"{count} ready tasks{(onlyOn is null ? string.Empty : " on " + onlyOn)}");
        return ready;
    }
}

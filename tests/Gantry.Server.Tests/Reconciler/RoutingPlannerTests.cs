using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Rollouts;
using Gantry.Core.Runtime;
using Gantry.Core.Strategies;
using Gantry.Runtime;
using Gantry.Server.Reconciler;

namespace Gantry.Server.Tests.Reconciler;

public sealed class RoutingPlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 3, 9, 0, 0, TimeSpan.Zero);

    private static Target Canary(int weight, string extra = "")
    {
        var service = ManifestLoader.LoadText($$"""
            services:
              shop: { process: { command: app{{extra}} }, listen: 127.0.0.1:8080, replicas: 2, strategy: { canary: { steps: [ { setWeight: 20 } ] } } }
            """).Manifest!.Services[0];
        var state = RolloutEngine.Create("shop-default-2", service, "default", Release.Of("v2"), RolloutKind.Deploy, [new InstanceSet(Release.Of("v1"), SetRole.Stable, 2, 2)], Now);
        return new Target(service, state with { Traffic = state.Traffic with { CanaryWeight = weight } });
    }

    private static InstanceStatus Instance(string version, int index, InstancePhase phase) =>
        new($"shop-default-{version}-{index}", new InstanceSetId("shop", "default", version), version, new Endpoint("127.0.0.1", 20_000 + (version == "v1" ? 0 : 10) + index), phase, 0, 100 + index, null, index);

    /// <summary>Two stable v1 instances and one v2 canary at 20%: the groups' weights and ready instances.</summary>
    [Theory(Timeout = 5_000)]
    [InlineData(InstancePhase.Ready, InstancePhase.Ready, InstancePhase.Ready, 80, 2, 20, 1)]
    [InlineData(InstancePhase.NotReady, InstancePhase.NotReady, InstancePhase.Ready, 0, 0, 20, 1)] // stable not ready: its share goes to the canary
    [InlineData(InstancePhase.Ready, InstancePhase.NotReady, InstancePhase.Crashed, 80, 1, 0, 0)] // canary crashed: its share goes to stable
    [InlineData(InstancePhase.Starting, InstancePhase.Starting, InstancePhase.Starting, 80, 0, 20, 0)] // nothing ready: the listener stays and answers 503
    [InlineData(InstancePhase.NotReady, InstancePhase.NotReady, InstancePhase.Crashed, 80, 2, 0, 0)] // every probe failing: the running instances rather than none (panic routing)
    public void Plan_GroupsWithAndWithoutReadyInstances_ShareOnlyWhereInstancesAreReady(
        InstancePhase stable0, InstancePhase stable1, InstancePhase canary, int stableWeight, int stableReady, int canaryWeight, int canaryReady)
    {
        RoutingPlanner.Plan([Canary(20)], [Instance("v1", 0, stable0), Instance("v1", 1, stable1), Instance("v2", 0, canary)])
            .Single().Backends.Select(b => (b.Name, b.Weight, b.Instances.Count))
            .Should().Equal(("v1", stableWeight, stableReady), ("v2", canaryWeight, canaryReady));
    }

    /// <summary>The one drain setting reaches the router: requests in a removed instance may finish until it is gone.</summary>
    [Fact(Timeout = 5_000)]
    public void Plan_RouteDrain_IsTheServicesDrainPlusItsStopTimeout()
    {
        IReadOnlyList<InstanceStatus> ready = [Instance("v1", 0, InstancePhase.Ready), Instance("v2", 0, InstancePhase.Ready)];
        RoutingPlanner.Plan([Canary(20)], ready).Single().Drain.Should().Be(TimeSpan.FromSeconds(12), "2s of drain and 10s to stop, by default");

        var slow = Canary(20, ", stopTimeout: 20s");
        slow = slow with { Spec = slow.Spec with { Drain = TimeSpan.FromSeconds(5) } };
        RoutingPlanner.Plan([slow], ready).Single().Drain.Should().Be(TimeSpan.FromSeconds(25));

        var limited = slow with { Spec = slow.Spec with { RateLimit = new RateLimit(20, 40) } };
        RoutingPlanner.Plan([limited], ready).Single().RateLimit.Should().Be(new RateLimit(20, 40), "the service's rate limit reaches its route");
    }
}

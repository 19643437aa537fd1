using Gantry.Core.Manifest;
using Gantry.Core.Manifest.Values;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;
using Gantry.Runtime;
using Gantry.Server.Reconciler;

namespace Gantry.Server.Tests.Reconciler;

public sealed class RoutingPlannerTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 3, 9, 0, 0, TimeSpan.Zero);

    private static Target Canary(int weight)
    {
        var service = ManifestLoader.LoadText("""
            services:
              shop: { process: { command: app }, listen: 127.0.0.1:8080, replicas: 2, strategy: { canary: { steps: [ { setWeight: 20 } ] } } }
            """).Manifest!.Services[0];
        var state = RolloutEngine.Create("shop-default-2", service, "default", Release.Of("v2"), RolloutKind.Deploy, [new InstanceSet(Release.Of("v1"), SetRole.Stable, 2, 2)], Now);
        return new Target(service, state with { Traffic = state.Traffic with { CanaryWeight = weight } });
    }

    private static InstanceStatus Instance(string version, int index, InstancePhase phase) =>
        new($"shop-default-{version}-{index}", $"shop/default/{version}", version, new Endpoint("127.0.0.1", 20_000 + (version == "v1" ? 0 : 10) + index), phase, 0, 100 + index, null, index);

    private static IEnumerable<(string, int, int)> Plan(Target target, params InstanceStatus[] instances) =>
        RoutingPlanner.Plan([target], instances).Single().Backends.Select(b => (b.Name, b.Weight, b.Instances.Count));

    [Fact(Timeout = 5_000)]
    public async Task Plan_EveryGroupReady_SplitsByTheRolloutsWeights()
    {
        await Task.Yield();
        Plan(Canary(20), Instance("v1", 0, InstancePhase.Ready), Instance("v1", 1, InstancePhase.Ready), Instance("v2", 0, InstancePhase.Ready))
            .Should().Equal(("v1", 80, 2), ("v2", 20, 1));
    }

    [Fact(Timeout = 5_000)]
    public async Task Plan_StableGroupWithNoReadyInstance_GivesItsShareToTheCanary()
    {
        await Task.Yield();
        Plan(Canary(20), Instance("v1", 0, InstancePhase.NotReady), Instance("v1", 1, InstancePhase.NotReady), Instance("v2", 0, InstancePhase.Ready))
            .Should().Equal(("v1", 0, 0), ("v2", 20, 1));
    }

    [Fact(Timeout = 5_000)]
    public async Task Plan_CanaryCrashed_ItsShareGoesToStable()
    {
        await Task.Yield();
        Plan(Canary(20), Instance("v1", 0, InstancePhase.Ready), Instance("v1", 1, InstancePhase.NotReady), Instance("v2", 0, InstancePhase.Crashed))
            .Should().Equal(("v1", 80, 1), ("v2", 0, 0));
    }

    [Fact(Timeout = 5_000)]
    public async Task Plan_NothingReady_KeepsTheListenerAndAnswers503()
    {
        await Task.Yield();
        Plan(Canary(20), Instance("v1", 0, InstancePhase.Starting), Instance("v2", 0, InstancePhase.Starting))
            .Should().Equal(("v1", 80, 0), ("v2", 20, 0));
    }
}

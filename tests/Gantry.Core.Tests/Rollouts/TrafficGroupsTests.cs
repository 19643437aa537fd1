using Gantry.Core.Rollouts;

namespace Gantry.Core.Tests.Rollouts;

public sealed class TrafficGroupsTests
{
    private static readonly DateTimeOffset Now = new(2026, 3, 3, 9, 0, 0, TimeSpan.Zero);

    private static RolloutState State(TrafficState traffic, params InstanceSet[] sets) => new(
        "shop-production-2", "shop", "production", RolloutKind.Deploy, StrategyKind.Canary, Release.Of("2.0"), "1.0", RolloutPhase.Progressing, 1, "",
        [.. sets], traffic, null, [], 1, Now, Now, Now, null, null, 1);

    private static InstanceSet Set(string version, SetRole role, int replicas, int routed) => new(Release.Of(version), role, replicas, routed);

    [Theory(Timeout = 5_000)]
    [InlineData(0, 0)]
    [InlineData(40, 40)]
    [InlineData(100, 100)]
    public void ShareOf_Canary_IsTheCanaryWeight(int weight, int share)
    {
        TrafficGroups.ShareOf(State(TrafficState.AllStable with { CanaryWeight = weight }, Set("1.0", SetRole.Stable, 2, 2), Set("2.0", SetRole.Canary, 1, 1))).Should().Be(share);
    }

    [Fact(Timeout = 5_000)]
    public void ShareOf_PromotedRelease_HasAllTheTraffic()
    {
        TrafficGroups.ShareOf(State(TrafficState.AllStable, Set("2.0", SetRole.Stable, 2, 2), Set("1.0", SetRole.Retired, 2, 0))).Should().Be(100);
    }

    [Fact(Timeout = 5_000)]
    public void ShareOf_RollingUpdate_CountsRoutedInstances()
    {
        var rolling = TrafficState.AllStable with { Proportional = true };
        TrafficGroups.ShareOf(State(rolling, Set("1.0", SetRole.Stable, 3, 2), Set("2.0", SetRole.Canary, 1, 1))).Should().Be(33);
        TrafficGroups.ShareOf(State(rolling, Set("1.0", SetRole.Stable, 3, 0), Set("2.0", SetRole.Canary, 0, 0))).Should().Be(0, "nothing routed: no share");
    }
}

using Gantry.Core.Approvals;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;

namespace Gantry.Core.Tests.Strategies;

/// <summary>
/// A deploy of the running version with other variables is a set of its own (its identity includes its
/// configuration, like a pod-template hash): aborting or rejecting it restores exactly the sets and split from before.
/// </summary>
public sealed class SameVersionTests
{
    private const string BlueGreen = "blueGreen: { autoPromotion: false, scaleDownDelay: 60s }";
    private const string Rolling = "rolling: { maxSurge: 1, maxUnavailable: 0 }";

    private static Release Green => new("v1", [new KeyValuePair<string, string>("COLOR", "green")]);

    [Theory(Timeout = 10_000)]
    [InlineData(RolloutEngineTests.Canary)]
    [InlineData(BlueGreen)]
    [InlineData(Rolling)]
    public void Abort_SameVersionOtherVariables_LeavesTheStableSetServing(string strategy)
    {
        var world = RolloutEngineTests.Stable(strategy);
        var before = world.State.Sets;
        var state = world.Deploy(Green);
        state.NewKey.Should().MatchRegex("^v1~[0-9a-f]{8}$").And.Be(Green.ConfigurationKey);
        state.PriorKey.Should().Be("v1");
        world.Settle();
        world.State.Sets.Should().Contain(s => s.Key == Green.ConfigurationKey && s.Name == Green.ConfigurationKey && s.Release == Green);
        world.State.SetOf("v1")!.Role.Should().Be(SetRole.Stable, "the running set is another set");

        world.Command(CommandKind.Abort, "wrong colour").Decision.Should().NotBeNull();
        world.State.Phase.Should().Be(RolloutPhase.Aborted);
        var stable = world.State.SetOf(SetRole.Stable)!;
        stable.Should().Be(before.Single() with { Replicas = stable.Replicas, Routed = stable.Routed });
        stable.Routed.Should().Be(2);
        world.State.Traffic.CanaryWeight.Should().Be(0);
        world.Settle();
        world.Serving().Should().ContainKey("v1").WhoseValue.Should().Be(2, "both stable instances still serve");
        world.Advance(TimeSpan.FromMinutes(2));
        world.State.Sets.Should().ContainSingle().Which.Should().Be(before.Single(), "once the aborted set is gone, exactly the sets from before remain");
    }

    [Fact(Timeout = 10_000)]
    public void Reject_SameVersionAwaitingApproval_ChangesNoSet()
    {
        var world = RolloutEngineTests.Stable(RolloutEngineTests.Canary);
        var before = world.State.Sets;
        world.Deploy(Green, approval: true).Phase.Should().Be(RolloutPhase.AwaitingApproval);
        world.Approval = new ApprovalStatus(ApprovalState.Rejected, 0, 1, [], "rejected by bob: not today");
        world.Settle();

        world.State.Phase.Should().Be(RolloutPhase.Aborted);
        world.State.Sets.Should().Equal(before, "a rejected rollout never started: production keeps its instances");
        world.Serving().Should().Equal(new Dictionary<string, int> { ["v1"] = 2 });
    }

    /// <summary>
    /// An aborted set's time is up but no pass has stopped it yet when the same version is deployed with other
    /// variables: its instances still run, so the new release must not take its key and, with it, those instances
    /// (a swarm service or processes of the old configuration would have been kept as the new release).
    /// </summary>
    [Fact(Timeout = 10_000)]
    public void Deploy_SameVersionOtherVariables_WhileAnExpiredSetStillRuns_GetsASetOfItsOwn()
    {
        var world = RolloutEngineTests.Stable(RolloutEngineTests.Canary);
        world.Deploy("v2");
        world.Settle();
        world.Command(CommandKind.Abort, "numbers").Decision.Should().NotBeNull();
        var aborted = world.State.SetOf("v2")!;
        aborted.Role.Should().Be(SetRole.Retired);
        world.Wait(aborted.RemoveAt!.Value - world.Now + TimeSpan.FromSeconds(1));

        var hungry = new Release("v2", [new KeyValuePair<string, string>("FAULT_ALLOCATE_MB", "400")]);
        var state = world.Deploy(hungry);
        state.NewKey.Should().Be(hungry.ConfigurationKey, "a set keyed v2 with the old variables still runs");
        state.Sets.Should().Contain(s => s.Key == "v2" && s.Role == SetRole.Retired && s.Routed == 0, "it runs until a pass sees the split without it in force");
        world.Settle();
        world.State.Sets.Should().NotContain(s => s.Key == "v2", "then it is stopped");
        world.State.SetOf(hungry.ConfigurationKey)!.Release.Should().Be(hungry);
        world.Events.Should().Contain(e => e.Type == RolloutEventType.ScaledDown && e.Message == "stopped the instances of v2");
    }

    [Fact(Timeout = 10_000)]
    public void Identity_IgnoresSecretValuesAndCommitData_ButNotVariables()
    {
        var a = new Release("v1", [new("DB", "one"), new("COLOR", "blue")], "abc") { Secret = ["DB"] };
        var b = new Release("v1", [new("COLOR", "blue"), new("DB", "two")], "def") { Secret = ["DB"] };
        a.SameConfiguration(b).Should().BeTrue("secret values are never compared, so no answer reveals them");
        a.ConfigurationKey.Should().Be(b.ConfigurationKey);
        a.Identity.Should().NotContain("one");
        a.SameConfiguration(a with { Variables = [new("DB", "one"), new("COLOR", "red")] }).Should().BeFalse();
        a.SameConfiguration(a with { Secret = [] }).Should().BeFalse("which variables are secret is part of the configuration");
    }
}

using Gantry.Core.Analysis;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;

namespace Gantry.Core.Tests.Strategies;

/// <summary>A rollback in steps: traffic back to the earlier release share by share, each step verified and held, on a fake clock.</summary>
public sealed class GradualRollbackTests
{
    [Fact(Timeout = 10_000)]
    public void RollbackInSteps_MovesTrafficBackShareByShare_EachHeldForItsInterval()
    {
        var world = RolloutEngineTests.Stable(RolloutEngineTests.Canary);
        world.Deploy("v2");
        world.Command(CommandKind.PromoteFull);
        world.Settle().StableVersion.Should().Be("v2");

        world.Rollback("v1", GradualRollback.Parse("75%,25%,0%", "1m", out _)!);
        world.Settle();
        world.State.Message.Should().Be("rollback step 1/3: 75% left on v2; the next step in 1m");
        world.Weights().Should().Equal(new Dictionary<string, int> { ["v2"] = 75, ["v1"] = 25 });
        world.State.Phase.Should().Be(RolloutPhase.Paused);

        world.Advance(TimeSpan.FromSeconds(59));
        world.Weights()["v2"].Should().Be(75, "a step holds for its whole interval");

        world.Advance(TimeSpan.FromSeconds(1));
        world.Weights().Should().Equal(new Dictionary<string, int> { ["v2"] = 25, ["v1"] = 75 });
        world.State.Step.Should().Be(1);

        world.Advance(TimeSpan.FromMinutes(1));
        world.State.Phase.Should().Be(RolloutPhase.Succeeded);
        world.State.Message.Should().Be("rolled back to v1 in 3 steps: all traffic on it");
        world.Serving().Keys.Should().Equal("v1");
        world.Events.Select(e => e.Message).Should().Contain("rollback step 2/3: 75% back on v1, 25% left on v2");
    }

    [Fact(Timeout = 10_000)]
    public void RollbackInSteps_RouterLate_AStepHoldsOnlyOnceItsSplitIsInForce()
    {
        var world = RolloutEngineTests.Stable(RolloutEngineTests.Canary);
        world.Deploy("v2");
        world.Command(CommandKind.PromoteFull);
        world.Settle();

        world.RouterLate = true;
        world.Rollback("v1", GradualRollback.Parse("50%,0%", "30s", out _)!);
        world.Settle();
        world.Advance(TimeSpan.FromMinutes(2));
        world.State.Message.Should().Be("rollback step 1/2: waiting for the router to confirm the split is in force");
        world.State.StepUntil.Should().BeNull("the hold starts once the router has the split");

        world.RouterCatchesUp();
        world.Settle();
        world.State.StepUntil.Should().Be(world.Now + TimeSpan.FromSeconds(30));

        // The last step switches all traffic back: the rollback succeeds once the router has that in force too.
        world.Advance(TimeSpan.FromSeconds(30)).Phase.Should().Be(RolloutPhase.Progressing);
        world.State.Message.Should().Be("rolled back to v1 in 2 steps: all traffic on it; waiting for the router to switch");
        world.RouterCatchesUp();
        world.Settle().Phase.Should().Be(RolloutPhase.Succeeded);
        world.State.Message.Should().Be("rolled back to v1 in 2 steps: all traffic on it");
    }

    [Fact(Timeout = 10_000)]
    public void RollbackInSteps_Aborted_PutsAllTrafficBackOnTheReleaseBeingRolledBack()
    {
        var world = RolloutEngineTests.Stable(RolloutEngineTests.Canary);
        world.Deploy("v2");
        world.Command(CommandKind.PromoteFull);
        world.Settle();
        world.Rollback("v1", GradualRollback.Parse("50%,0%", "1m", out _)!);
        world.Settle();
        world.Weights()["v1"].Should().Be(50);

        world.Command(CommandKind.Abort, "v1 is worse").Refusal.Should().BeNull();
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Aborted);
        world.Serving().Keys.Should().Equal("v2");
    }

    [Fact(Timeout = 10_000)]
    public void RollbackInSteps_WithAnalysis_EachStepWaitsForItsVerdict_AFailureHoldsForAPerson()
    {
        var world = RolloutEngineTests.Stable(RolloutEngineTests.Canary);
        world.Deploy("v2");
        world.Command(CommandKind.PromoteFull);
        world.Settle();
        world.Rollback("v1", GradualRollback.Parse("50%,0%", "30s", out _)! with { Analysis = ["slo"] });
        world.Settle();
        world.State.Analysis!.Purpose.Should().Be("rollback step 1/2");
        world.Advance(TimeSpan.FromMinutes(2)).Step.Should().Be(0, "a step moves on only once its analysis passed, however long the hold");

        world.Analysis(AnalysisPhase.Failed);
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Paused);
        world.State.Waits.Should().Contain(WaitReason.FailedAnalysisHeld);
        world.State.Message.Should().Be("rollback step 1/2: analysis slo failed: measured; holding the split: resume runs it again, abort puts all traffic back on v2");
        world.Weights().Should().Equal(new Dictionary<string, int> { ["v2"] = 50, ["v1"] = 50 });

        world.Command(CommandKind.Resume).Refusal.Should().BeNull();
        world.Settle();
        world.State.Analysis.Should().NotBeNull("a resumed step runs its analysis again");
        world.Analysis(AnalysisPhase.Successful);
        world.Settle();
        world.State.Step.Should().Be(1);
        world.State.Phase.Should().Be(RolloutPhase.Succeeded, "the last step, 0%, switches all traffic back");
        world.Serving().Keys.Should().Equal("v1");
    }

    [Theory(Timeout = 10_000)]
    [InlineData("50%,0%", null, "50%, 0% every 1m")]
    [InlineData("90, 50, 0", "10s", "90%, 50%, 0% every 10s")]
    [InlineData("0%", "1m", "0% every 1m")]
    public void Parse_GoodSteps(string steps, string? every, string expected) =>
        GradualRollback.Parse(steps, every, out _)!.ToString().Should().Be(expected);

    [Theory(Timeout = 10_000)]
    [InlineData("50%,10%", null, "steps: the last step must be 0% (all traffic back on the earlier release)")]
    [InlineData("50%,60%,0%", null, "steps: each step must leave less traffic on the release rolled back than the one before (50%,60%,0%)")]
    [InlineData("100%,0%", null, "steps: '100%' is not a share of traffic from 0% to 99%")]
    [InlineData("half,0%", null, "steps: 'half' is not a share of traffic from 0% to 99%")]
    [InlineData("50%,0%", "0s", "every: '0s' must be a duration from 1s to 24h (for example 30s, 1m)")]
    [InlineData("50%,0%", "soon", "every: 'soon' must be a duration from 1s to 24h (for example 30s, 1m)")]
    public void Parse_BadSteps_SaysWhy(string steps, string? every, string expected)
    {
        GradualRollback.Parse(steps, every, out var error).Should().BeNull();
        error.Should().Be(expected);
    }
}

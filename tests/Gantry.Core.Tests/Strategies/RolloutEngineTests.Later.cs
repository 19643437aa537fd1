using Gantry.Core.Analysis;
using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;

namespace Gantry.Core.Tests.Strategies;

/// <summary>The engine's rollbacks, aborts with a baseline, and the later cases (the first ones are in RolloutEngineTests.cs).</summary>
public sealed partial class RolloutEngineTests
{
    [Fact(Timeout = 10_000)]
    public void Apply_AbortWithFreshBaseline_MovesAllTrafficToStableAndStopsTheBaselineAfterItsDrain()
    {
        var world = Stable(CanaryWithFreshBaseline, replicas: 4);
        world.Deploy("v2");
        world.Settle();
        world.Command(CommandKind.Abort).Refusal.Should().BeNull();
        world.Weights().Should().Equal(new Dictionary<string, int> { ["v1"] = 100 });
        world.Advance(ServiceSpec.DefaultDrain);
        world.State.Sets.Select(s => s.Key).Should().Equal("v1", "v2");

        world.Command(CommandKind.Retry).Refusal.Should().BeNull();
        world.Settle();
        world.Weights().Should().Equal(new Dictionary<string, int> { ["v1"] = 50, ["v1~baseline"] = 25, ["v2"] = 25 });
    }

    [Fact(Timeout = 10_000)]
    public void Next_ChecklistNotPassed_StartsNothingUntilItPasses()
    {
        var world = Stable(Canary);
        world.Deploy("v2", checklist: true);
        var waiting = world.Settle();
        waiting.Phase.Should().Be(RolloutPhase.Pending);
        waiting.Message.Should().Be("waiting for the pre-deployment checklist of production");
        waiting.SetOf("v2").Should().BeNull("no instance of the release starts before the checklist passes");
        world.Advance(TimeSpan.FromHours(1)).Revision.Should().Be(waiting.Revision, "waiting changes nothing and never hits the progress deadline");

        world.Command(CommandKind.Promote).Refusal.Should().Be("rollout r1 has not started: it waits for its pre-deployment checklist (gantry checklist r1); it can only be aborted");
        world.Command(CommandKind.Pause).Refusal.Should().NotBeNull();

        world.ChecklistPassed = true;
        world.Settle();
        world.Events.Should().Contain(e => e.Type == RolloutEventType.ChecklistPassed && e.Message == "every required item of the pre-deployment checklist passed: canary of v2 beside stable v1");
        world.State.Traffic.CanaryWeight.Should().Be(20);
    }

    [Fact(Timeout = 10_000)]
    public void Apply_RetryOfARolloutWithAChecklist_WaitsForTheChecklistAgain()
    {
        var world = Stable(Canary);
        world.Deploy("v2", checklist: true);
        world.Command(CommandKind.Abort).Refusal.Should().BeNull();
        world.State.Phase.Should().Be(RolloutPhase.Aborted);
        world.ChecklistPassed = false;
        world.Command(CommandKind.Retry).Refusal.Should().BeNull();
        world.Settle().Phase.Should().Be(RolloutPhase.Pending);
        world.State.Attempt.Should().Be(2);
    }

    [Fact(Timeout = 10_000)]
    public void Next_FreezeThatHoldsRunningRollouts_StopsTheCanaryWhereItIsUntilTheFreezeEnds()
    {
        var world = Stable(Canary);
        world.Deploy("v2");
        world.Settle();
        world.State.Step.Should().Be(1, "at the 30 s pause");

        world.FreezeHold = "the freeze of production from 2026-12-20 to 2027-01-02 (holidays)";
        world.Advance(TimeSpan.FromHours(2));
        world.State.Phase.Should().Be(RolloutPhase.Paused);
        world.State.Message.Should().Be("held where it is by the freeze of production from 2026-12-20 to 2027-01-02 (holidays): it goes on when the freeze ends");
        world.State.Step.Should().Be(1, "nothing moves during the freeze, not even a timed pause");
        world.State.Traffic.CanaryWeight.Should().Be(20, "the split is kept");
        world.Command(CommandKind.Resume).Refusal.Should().Be("rollout r1 is held by a freeze: it goes on when the freeze ends; it can only be aborted");

        world.FreezeHold = null;
        world.Settle();
        world.Events.Should().Contain(e => e.Type == RolloutEventType.Resumed && e.Message == "the freeze ended: going on");
        world.Advance(TimeSpan.FromSeconds(30)).Step.Should().BeGreaterThan(1);
    }

    [Fact(Timeout = 10_000)]
    public void Apply_PromoteFull_SkipsTheRemainingSteps()
    {
        var world = Stable(Canary);
        world.Deploy("v2");
        world.Settle();
        world.Command(CommandKind.PromoteFull).Refusal.Should().BeNull();
        world.Settle().Phase.Should().Be(RolloutPhase.Succeeded);
        world.State.StableVersion.Should().Be("v2");
        world.Events.Should().Contain(e => e.Message == "promoted fully by alice: the remaining steps are skipped");
    }

    [Fact(Timeout = 10_000)]
    public void Apply_PauseAndResume_HoldTheRolloutWhereItIs()
    {
        var world = Stable(Canary);
        world.Deploy("v2");
        world.Command(CommandKind.Pause, "checking dashboards").Refusal.Should().BeNull();
        world.Settle();
        world.State.Traffic.CanaryWeight.Should().Be(0);
        world.State.Phase.Should().Be(RolloutPhase.Paused);
        world.Command(CommandKind.Pause).Refusal.Should().Be("rollout r1 is already paused");
        world.Advance(TimeSpan.FromHours(2)).Phase.Should().Be(RolloutPhase.Paused, "a manual pause holds, and the deadline does not run");

        world.Command(CommandKind.Resume).Refusal.Should().BeNull();
        world.Settle();
        world.State.Traffic.CanaryWeight.Should().Be(20);
    }

    [Fact(Timeout = 10_000)]
    public void Apply_Retry_StartsAgainFromTheFirstStepWithANewAnalysisRun()
    {
        var world = Stable(Canary);
        world.Deploy("v2");
        world.Settle();
        world.Advance(TimeSpan.FromSeconds(30));
        var firstKey = world.State.Analysis!.Key;
        world.Analysis(AnalysisPhase.Failed);
        world.Settle().Phase.Should().Be(RolloutPhase.Aborted);

        world.Command(CommandKind.Retry).Refusal.Should().BeNull();
        world.State.Attempt.Should().Be(2);
        world.State.SetOf("v2")!.Role.Should().Be(SetRole.Canary);
        world.Settle();
        world.State.Traffic.CanaryWeight.Should().Be(20);
        world.Advance(TimeSpan.FromSeconds(30));
        world.State.Analysis!.Key.Should().NotBe(firstKey);
        world.Command(CommandKind.Retry).Refusal.Should().Be("rollout r1 is Analyzing: only an aborted or failed rollout can be retried");
    }

    [Fact(Timeout = 10_000)]
    public void Apply_PromoteRolling_IsRefusedWithTheReason()
    {
        var world = Stable(Rolling, replicas: 3);
        world.Deploy("v2");
        world.Command(CommandKind.Promote).Refusal.Should().Be("rollout r1 is a rolling update: it has no steps to promote (pause, resume or abort it)");
    }

    [Fact(Timeout = 10_000)]
    public void Next_BlueGreen_PreviewThenManualPromotionThenSwitchAndKeepsOldForScaleDownDelay()
    {
        var world = Stable(BlueGreen, replicas: 3);
        world.ReadyLimit["v2"] = 2;
        world.Deploy("v2");
        world.State.Traffic.Preview.Should().BeTrue();
        world.State.SetOf("v2")!.Replicas.Should().Be(3, "blue-green starts the new set at full size");
        world.Settle().Message.Should().Be("starting v2: 2/3 instances ready");

        world.ReadyLimit.Remove("v2");
        world.Settle().Phase.Should().Be(RolloutPhase.Paused);
        world.State.Message.Should().Be("v2 is ready on preview: waiting for promotion (gantry promote web)");
        world.Serving().Keys.Should().Equal("v1");

        world.Command(CommandKind.Promote).Refusal.Should().BeNull();
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Analyzing, "post-promotion analysis");
        world.State.StableVersion.Should().Be("v2");
        world.State.Traffic.Preview.Should().BeFalse();
        world.State.SetOf("v1")!.RemoveAt.Should().BeNull("the old set stays until post-promotion analysis ends");

        world.Analysis(AnalysisPhase.Successful);
        world.Settle().Phase.Should().Be(RolloutPhase.Succeeded);
        world.State.SetOf("v1")!.RemoveAt.Should().Be(world.Now + TimeSpan.FromSeconds(60));
        world.Advance(TimeSpan.FromSeconds(60)).SetOf("v1").Should().BeNull();
    }

    [Fact(Timeout = 10_000)]
    public void Next_BlueGreenPostAnalysisFails_SwitchesBackToTheOldSet()
    {
        var world = Stable(BlueGreen);
        world.Deploy("v2");
        world.Settle();
        world.Command(CommandKind.Promote);
        world.Settle();
        world.Analysis(AnalysisPhase.Failed);
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Aborted);
        world.State.StableVersion.Should().Be("v1");
        world.Serving().Keys.Should().Equal("v1");
        world.Events.Should().Contain(e => e.Message == "100% of traffic back on v1");
    }

    [Theory(Timeout = 10_000)]
    [InlineData("starting")]
    [InlineData("awaiting promotion")]
    [InlineData("post-promotion analysis")]
    public void Apply_AbortBlueGreenAtEachStage_LeavesAllTrafficOnTheOldSet(string stage)
    {
        var world = Stable(BlueGreen);
        if (stage == "starting")
        {
            world.ReadyLimit["v2"] = 1;
        }

        world.Deploy("v2");
        world.Settle();
        if (stage == "post-promotion analysis")
        {
            world.Command(CommandKind.Promote);
            world.Settle().StableVersion.Should().Be("v2");
        }

        world.Command(CommandKind.Abort).Refusal.Should().BeNull();
        world.State.Phase.Should().Be(RolloutPhase.Aborted);
        world.State.StableVersion.Should().Be("v1");
        world.State.Traffic.Should().Be(TrafficState.AllStable, "the preview listener closes too");
        world.Serving().Keys.Should().Equal("v1");
        world.Advance(RolloutEngine.DefaultAbortScaleDownDelay).SetOf("v2").Should().BeNull();
    }

    [Fact(Timeout = 10_000)]
    public void Apply_RetryFailedRolling_StartsTheReplacementAgain()
    {
        var world = Stable(Rolling, replicas: 2, deadline: "1m");
        world.NeverReady("v2");
        world.Deploy("v2");
        world.Advance(TimeSpan.FromSeconds(61));
        world.State.Phase.Should().Be(RolloutPhase.Failed);
        world.Settle();
        world.Serving().Keys.Should().Equal("v1");

        world.Command(CommandKind.Retry).Refusal.Should().BeNull();
        world.Settle().Phase.Should().Be(RolloutPhase.Progressing);
        world.State.SetOf("v1")!.Replicas.Should().Be(2);
    }

    [Fact(Timeout = 10_000)]
    public void Next_BlueGreenAutoPromotion_SwitchesAfterTheDelay()
    {
        var world = Stable("""
            blueGreen: { autoPromotion: true, autoPromotionSeconds: 10, scaleDownDelay: 30s }
            """);
        world.Deploy("v2");
        world.Settle().Message.Should().Be("v2 is ready: promoting automatically in 10 s");
        world.Advance(TimeSpan.FromSeconds(9)).StableVersion.Should().Be("v1");
        world.Advance(TimeSpan.FromSeconds(1)).Phase.Should().Be(RolloutPhase.Succeeded);
        world.State.StableVersion.Should().Be("v2");
    }

    [Fact(Timeout = 10_000)]
    public void Next_BlueGreenSwitch_WaitsUntilEveryNewInstanceIsReady()
    {
        var world = Stable(BlueGreen.Replace("      postPromotionAnalysis: { templates: [slo] }\n", string.Empty));
        world.Deploy("v2");
        world.Settle();
        world.ReadyLimit["v2"] = 1;
        world.Command(CommandKind.Promote);
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Promoting);
        world.State.StableVersion.Should().Be("v1");
        world.ReadyLimit.Remove("v2");
        world.Settle().StableVersion.Should().Be("v2");
    }

    [Fact(Timeout = 10_000)]
    public void Next_Rolling_NeverServesWithFewerReadyThanReplicasOrRunsMoreThanSurge()
    {
        var world = Stable(Rolling, replicas: 3);
        world.Deploy("v2");
        for (var i = 0; i < 60 && world.State.Phase != RolloutPhase.Succeeded; i++)
        {
            world.Tick();
            world.State.Sets.Sum(s => s.Replicas).Should().BeLessThanOrEqualTo(4, "maxSurge 1");
            world.Serving().Values.Sum().Should().BeGreaterThanOrEqualTo(3, "maxUnavailable 0");
            world.Advance(TimeSpan.FromSeconds(1));
        }

        world.State.Phase.Should().Be(RolloutPhase.Succeeded);
        world.State.Sets.Should().ContainSingle().Which.Should().Be(new InstanceSet(Release.Of("v2"), SetRole.Stable, 3, 3));
        world.Events.Count(e => e.Type == RolloutEventType.ScaledUp).Should().Be(3, "one new instance at a time");
    }

    [Fact(Timeout = 10_000)]
    public void Next_RollingWithMaxUnavailable_ReplacesInBatches()
    {
        var world = Stable("rolling: { maxSurge: 0, maxUnavailable: 50% }", replicas: 4);
        world.Deploy("v2");
        for (var i = 0; i < 60 && world.State.Phase != RolloutPhase.Succeeded; i++)
        {
            world.Tick();
            world.State.Sets.Sum(s => s.Replicas).Should().BeLessThanOrEqualTo(4, "maxSurge 0");
            world.Serving().Values.Sum().Should().BeGreaterThanOrEqualTo(2, "maxUnavailable 50% of 4");
            world.Advance(TimeSpan.FromSeconds(1));
        }

        world.State.Phase.Should().Be(RolloutPhase.Succeeded);
    }

    [Fact(Timeout = 10_000)]
    public void Apply_AbortRolling_BringsTheOldReleaseBackBeforeTakingTheNewOneOut()
    {
        var world = Stable(Rolling, replicas: 3);
        world.Deploy("v2");
        world.Settle();
        world.Advance(TimeSpan.FromSeconds(2));
        world.State.SetOf("v1")!.Replicas.Should().BeLessThan(3);
        world.ReadyLimit["v1"] = 0;
        world.Command(CommandKind.Abort);
        world.State.SetOf("v1")!.Replicas.Should().Be(3);
        world.Settle();
        world.Serving().Should().ContainKey("v2", "the new release serves until the old one is back");
        world.ReadyLimit.Remove("v1");
        world.Settle();
        world.Serving().Keys.Should().Equal("v1");
        world.Advance(ServiceSpec.DefaultDrain).SetOf("v2").Should().BeNull();
    }

    [Fact(Timeout = 10_000)]
    public void Create_RollbackWhileOldSetRuns_SwitchesAtOnce()
    {
        var world = Stable(BlueGreen.Replace("      postPromotionAnalysis: { templates: [slo] }\n", string.Empty));
        world.Deploy("v2");
        world.Settle();
        world.Command(CommandKind.Promote);
        world.Settle().StableVersion.Should().Be("v2");

        world.Advance(TimeSpan.FromSeconds(10));
        world.Deploy("v1", RolloutKind.Rollback).Strategy.Should().Be(StrategyKind.Rollback);
        world.Tick();
        world.State.StableVersion.Should().Be("v1", "the retained set is ready: one observation is enough to switch");
        world.State.Phase.Should().Be(RolloutPhase.Progressing, "it succeeds once the router is seen routing the switch");
        world.Serving().Keys.Should().Equal("v1");
        world.Tick().Phase.Should().Be(RolloutPhase.Succeeded);
    }

    [Fact(Timeout = 10_000)]
    public void Create_RollbackAfterOldSetStopped_StartsItAndSwitchesWhenReady()
    {
        var world = Stable(Canary);
        world.Deploy("v2");
        world.Command(CommandKind.PromoteFull);
        world.Settle();
        world.Advance(TimeSpan.FromMinutes(5)).SetOf("v1").Should().BeNull();

        world.ReadyLimit["v1"] = 0;
        world.Deploy("v1", RolloutKind.Rollback);
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Progressing);
        world.Serving().Keys.Should().Equal("v2");
        world.ReadyLimit.Remove("v1");
        world.Settle().Phase.Should().Be(RolloutPhase.Succeeded);
        world.Serving().Keys.Should().Equal("v1");
    }

    [Fact(Timeout = 10_000)]
    public void Next_Unchanged_KeepsTheSameRevision()
    {
        var world = Stable(Canary);
        var before = world.State;
        world.Tick().Should().BeSameAs(before);
    }
}

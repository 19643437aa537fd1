using Gantry.Core.Analysis;
using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;

namespace Gantry.Core.Tests.Strategies;

public sealed partial class RolloutEngineTests
{
    internal const string Canary = """
        canary:
          steps:
            - setWeight: 20
            - pause: { duration: 30s }
            - analysis: { templates: [slo] }
            - setHeaderRoute: { match: [{ header: x-canary, exact: "yes" }] }
            - setMirror: { percent: 50 }
            - setWeight: 50
            - pause: {}
          abortScaleDownDelay: 20s
        """;

    private const string BlueGreen = """
        blueGreen:
          previewListen: 127.0.0.1:8081
          autoPromotion: false
          scaleDownDelay: 60s
          postPromotionAnalysis: { templates: [slo] }
        """;

    private const string Rolling = """
        rolling: { maxSurge: 1, maxUnavailable: 0 }
        """;

    internal static RolloutWorld Stable(string strategy, int replicas = 2, string deadline = "10m")
    {
        var world = new RolloutWorld(strategy, replicas, deadline);
        world.Deploy("v1");
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Succeeded);
        return world;
    }

    [Fact(Timeout = 10_000)]
    public void Create_FirstRelease_StartsDirectlyAndSucceedsWhenReady()
    {
        var world = new RolloutWorld(Canary);
        world.ReadyLimit["v1"] = 0;
        var state = world.Deploy("v1");
        state.Strategy.Should().Be(StrategyKind.Initial);
        state.Sets.Should().ContainSingle().Which.Should().Be(new InstanceSet(Release.Of("v1"), SetRole.Stable, 2, 2));

        world.Settle().Phase.Should().Be(RolloutPhase.Progressing);
        world.State.Message.Should().Be("waiting for v1: 0/2 instances ready");
        world.ReadyLimit["v1"] = 2;
        world.Settle().Phase.Should().Be(RolloutPhase.Succeeded);
        world.State.StableVersion.Should().Be("v1");
    }

    [Fact(Timeout = 10_000)]
    public void Next_CanaryThroughEveryStep_ShiftsTrafficInOrderAndPromotes()
    {
        var world = Stable(Canary, replicas: 4);
        world.Deploy("v2").Strategy.Should().Be(StrategyKind.Canary);
        world.State.PreviousVersion.Should().Be("v1");

        // setWeight 20 of 4 replicas: one canary instance, then 20%; pause 30s.
        world.Settle();
        world.State.SetOf("v2")!.Replicas.Should().Be(1);
        world.State.SetOf("v1")!.Replicas.Should().Be(4, "the stable set keeps its full size");
        world.State.Traffic.CanaryWeight.Should().Be(20);
        world.State.Phase.Should().Be(RolloutPhase.Paused);
        world.State.Step.Should().Be(1);

        world.Advance(TimeSpan.FromSeconds(29)).Step.Should().Be(1);
        world.Advance(TimeSpan.FromSeconds(1));
        world.State.Phase.Should().Be(RolloutPhase.Analyzing);
        world.State.Analysis!.Templates.Should().Equal("slo");

        world.Analysis(AnalysisPhase.Successful);
        world.Settle();
        world.State.Traffic.HeaderRoute.Should().ContainSingle().Which.Name.Should().Be("x-canary");
        world.State.Traffic.MirrorPercent.Should().Be(50);
        world.State.Traffic.CanaryWeight.Should().Be(50);
        world.State.SetOf("v2")!.Replicas.Should().Be(2, "50% of 4 replicas");
        world.State.Phase.Should().Be(RolloutPhase.Paused);
        world.State.Message.Should().Contain("paused until promoted");

        world.Command(CommandKind.Promote).Refusal.Should().BeNull();
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Succeeded);
        world.State.StableVersion.Should().Be("v2");
        world.State.SetOf("v2")!.Replicas.Should().Be(4);
        world.State.Traffic.Should().Be(TrafficState.AllStable);
        world.State.SetOf("v1")!.Role.Should().Be(SetRole.Retired);
        world.State.SetOf("v1")!.Routed.Should().Be(0);

        world.Advance(ServiceSpec.DefaultDrain);
        world.State.SetOf("v1").Should().BeNull("the old stable set stops once drained");
        world.Events.Select(e => e.Type.ToString()).Should().ContainInOrder("TrafficShifted", "Paused", "Resumed", "AnalysisStarted", "AnalysisSucceeded", "HeaderRouteSet", "MirrorSet", "TrafficShifted", "Paused", "Promoted", "Promoting", "TrafficShifted", "Succeeded", "ScaledDown");
    }

    [Fact(Timeout = 10_000)]
    public void Next_CanaryNotReady_GivesItNoTrafficAndFailsAtTheDeadline()
    {
        var world = Stable(Canary, deadline: "2m");
        world.Deploy("v2");
        world.NeverReady("v2");
        world.Settle();
        world.State.Traffic.CanaryWeight.Should().Be(0);
        world.State.Message.Should().Contain("waiting for canary instances (0/1 ready)");

        world.Advance(TimeSpan.FromSeconds(119)).Phase.Should().Be(RolloutPhase.Progressing);
        world.Advance(TimeSpan.FromSeconds(2));
        world.State.Phase.Should().Be(RolloutPhase.Failed);
        world.State.Message.Should().Be("no progress for 2m (progress deadline): v2 has 0/1 instances ready; last error: readiness probe /ready failed");
        world.State.SetOf("v2")!.Role.Should().Be(SetRole.Retired);
        world.State.SetOf("v1")!.Role.Should().Be(SetRole.Stable);
    }

    [Fact(Timeout = 10_000)]
    public void Next_PausedStep_DoesNotCountAgainstTheDeadline()
    {
        var world = Stable(Canary.Replace("duration: 30s", "duration: 1h"), deadline: "1m");
        world.Deploy("v2");
        world.Settle();
        world.Advance(TimeSpan.FromMinutes(59)).Phase.Should().Be(RolloutPhase.Paused);
        world.Advance(TimeSpan.FromMinutes(1)).Phase.Should().Be(RolloutPhase.Analyzing);
    }

    [Theory(Timeout = 10_000)]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(6)]
    public void Apply_AbortAtEachStep_MovesAllTrafficToStableAtOnce(int step)
    {
        var world = Stable(Canary);
        world.ReadyLimit["v2"] = 0;
        world.Deploy("v2");
        world.Settle();
        world.ReadyLimit.Remove("v2");
        while (world.State.Step < step)
        {
            if (world.State.Analysis is not null)
            {
                world.Analysis(AnalysisPhase.Successful);
            }
            else if (world.State.Phase == RolloutPhase.Paused)
            {
                world.Command(CommandKind.Promote);
            }

            world.Settle();
        }

        world.State.Step.Should().Be(step);
        world.Command(CommandKind.Abort, "users report errors").Refusal.Should().BeNull();
        world.State.Phase.Should().Be(RolloutPhase.Aborted);
        world.State.Message.Should().Be("aborted by alice: users report errors");
        world.State.Traffic.Should().Be(TrafficState.AllStable);
        world.State.SetOf("v1").Should().Be(new InstanceSet(Release.Of("v1"), SetRole.Stable, 2, 2));
        world.State.SetOf("v2")!.Should().Match<InstanceSet>(s => s.Role == SetRole.Retired && s.Routed == 0);
        world.Serving().Keys.Should().Equal("v1");

        world.Advance(TimeSpan.FromSeconds(19)).SetOf("v2").Should().NotBeNull("abortScaleDownDelay is 20s");
        world.Advance(TimeSpan.FromSeconds(1)).SetOf("v2").Should().BeNull();
        world.Command(CommandKind.Abort).Refusal.Should().Be("rollout r1 has already ended (Aborted)");
    }

    [Fact(Timeout = 10_000)]
    public void Next_AnalysisFails_AbortsWithTheReason()
    {
        var world = Stable(Canary);
        world.Deploy("v2");
        world.Settle();
        world.Advance(TimeSpan.FromSeconds(30));
        world.Analysis(AnalysisPhase.Failed);
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Aborted);
        world.State.Message.Should().Be("analysis slo failed (step 3/7): measured");
        world.State.Traffic.CanaryWeight.Should().Be(0);
    }

    [Fact(Timeout = 10_000)]
    public void Next_AnalysisFailsWithHold_KeepsTheSplitAndPausesForAPerson()
    {
        var world = Stable(Canary.Replace("analysis: { templates: [slo] }", "analysis: { templates: [slo], onFailure: hold }"));
        world.Deploy("v2");
        world.Settle();
        world.Advance(TimeSpan.FromSeconds(30));
        world.Analysis(AnalysisPhase.Failed);
        world.Settle();

        world.State.Phase.Should().Be(RolloutPhase.Paused);
        world.State.Message.Should().Be("analysis slo failed (step 3/7): measured; holding the current split (onFailure: hold): promote to go on or abort");
        world.State.Traffic.CanaryWeight.Should().Be(20, "the split is kept");
        world.Advance(TimeSpan.FromHours(1)).Phase.Should().Be(RolloutPhase.Paused);

        world.Command(CommandKind.Promote).Refusal.Should().BeNull();
        world.Settle().Step.Should().Be(6);
    }

    [Fact(Timeout = 10_000)]
    public void Next_NewReleaseCannotStart_FailsAtOnceWithTheReason()
    {
        var world = Stable(Canary);
        world.Unstartable["v2"] = "No such image: shop:v2";
        world.Deploy("v2");
        world.Settle();

        world.State.Phase.Should().Be(RolloutPhase.Failed, "waiting for the progress deadline would change nothing");
        world.State.Message.Should().Be("v2 cannot start: No such image: shop:v2");
        world.State.Traffic.CanaryWeight.Should().Be(0);
    }

    [Fact(Timeout = 10_000)]
    public void Next_NewReleaseRestartsRepeatedly_IsAbortedForFailingItsHealthChecks()
    {
        var world = Stable(Canary);
        world.Deploy("v2");
        world.Settle();
        world.Restarts["v2"] = RolloutEngine.HealthFailureLimit - 1;
        world.Settle().Phase.Should().NotBe(RolloutPhase.Aborted);
        world.Restarts["v2"] = RolloutEngine.HealthFailureLimit;
        world.Advance(TimeSpan.FromSeconds(30));
        world.State.Phase.Should().Be(RolloutPhase.Aborted);
        world.State.Message.Should().Be("v2 failed its health checks: its instances were restarted 3 times");
        world.Serving().Keys.Should().Equal("v1");
    }

    [Fact(Timeout = 10_000)]
    public void Next_AnalysisInconclusive_PausesForAPerson()
    {
        var world = Stable(Canary);
        world.Deploy("v2");
        world.Settle();
        world.Advance(TimeSpan.FromSeconds(30));
        world.Analysis(AnalysisPhase.Inconclusive);
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Paused);
        world.State.Message.Should().StartWith("analysis inconclusive (step 3/7)");
        world.Advance(TimeSpan.FromHours(1)).Step.Should().Be(2, "a person decides");

        world.Command(CommandKind.Resume).Refusal.Should().BeNull();
        world.Settle();
        world.State.Step.Should().Be(6);
        world.State.Traffic.CanaryWeight.Should().Be(50);
    }

    private const string CanaryWithBackground = """
        canary:
          steps:
            - setWeight: 20
            - pause: { duration: 30s }
            - setWeight: 50
            - pause: {}
          analysis: { templates: [slo], startingStep: 2 }
        """;

    [Fact(Timeout = 10_000)]
    public void Next_BackgroundAnalysis_StartsAtItsStepAndAbortsWhateverStepItFailsAt()
    {
        var world = Stable(CanaryWithBackground);
        world.Deploy("v2");
        world.Settle();
        world.State.Background.Should().BeNull("it starts at step index 2");
        world.Advance(TimeSpan.FromSeconds(30));
        world.State.Step.Should().Be(3, "the rollout waits at the manual pause");
        world.State.Background.Should().NotBeNull();
        world.State.Background!.Purpose.Should().Be("background");
        world.Events.Should().Contain(e => e.Message == "background analysis slo running from step 3 until the rollout ends");

        world.Background(AnalysisPhase.Failed);
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Aborted);
        world.State.Message.Should().Be("background analysis slo failed: measured");
        world.State.Traffic.CanaryWeight.Should().Be(0);
        world.State.Background.Should().BeNull();
        world.Serving().Keys.Should().Equal("v1");
    }

    [Fact(Timeout = 10_000)]
    public void Next_BackgroundAnalysisRunning_DoesNotHoldTheStepsBackAndEndsWithTheRollout()
    {
        var world = Stable(CanaryWithBackground.Replace("startingStep: 2", "startingStep: 0"));
        world.Deploy("v2");
        world.Settle();
        world.Advance(TimeSpan.FromSeconds(30));
        world.State.Step.Should().Be(3);
        world.State.Phase.Should().Be(RolloutPhase.Paused);
        world.Command(CommandKind.Promote).Refusal.Should().BeNull();
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Succeeded);
        world.State.Background.Should().BeNull("a background analysis ends with its rollout");
    }

    [Fact(Timeout = 10_000)]
    public void Next_BackgroundAnalysisPassesItsCount_IsNotStartedAgain()
    {
        var world = Stable(CanaryWithBackground.Replace("startingStep: 2", "startingStep: 0"));
        world.Deploy("v2");
        world.Settle();
        var key = world.State.Background!.Key;
        world.Background(AnalysisPhase.Successful);
        world.Advance(TimeSpan.FromSeconds(30));
        world.State.Background.Should().Be(new AnalysisRequest(key, ["slo"], "background", Completed: true));
        world.Events.Count(e => e.Type == RolloutEventType.AnalysisStarted).Should().Be(1);
        world.Events.Should().Contain(e => e.Message == "background analysis slo passed: measured");
    }

    [Theory(Timeout = 10_000)]
    [InlineData(AnalysisPhase.Inconclusive, "", "background analysis slo inconclusive: measured; resume to go on (a new background run starts) or abort")]
    [InlineData(AnalysisPhase.Failed, ", onFailure: hold", "background analysis slo failed: measured; holding the current split (onFailure: hold): resume to go on or abort")]
    public void Next_BackgroundAnalysisInconclusiveOrHeld_PausesWithTheSplitAndResumeStartsANewRun(AnalysisPhase outcome, string option, string message)
    {
        var world = Stable(CanaryWithBackground.Replace("startingStep: 2", "startingStep: 1" + option));
        world.Deploy("v2");
        world.Settle();
        var first = world.State.Background!.Key;
        world.Background(outcome);
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Paused);
        world.State.Message.Should().Be(message);
        world.State.Traffic.CanaryWeight.Should().Be(20, "the split is kept");
        world.Advance(TimeSpan.FromHours(1)).Step.Should().Be(1, "a person decides; even the timed pause waits");

        world.Command(CommandKind.Resume).Refusal.Should().BeNull();
        world.Settle();
        world.State.Background!.Key.Should().NotBe(first, "resuming starts a new run");
        world.State.Step.Should().Be(3);
    }

    private const string CanaryWithFreshBaseline = """
        canary:
          steps:
            - setWeight: 25
            - pause: {}
            - setWeight: 75
            - pause: {}
          baseline: fresh
          abortScaleDownDelay: 20s
        """;

    [Fact(Timeout = 10_000)]
    public void Next_FreshBaseline_StartsStableInstancesAtCanarySizeWithTheCanarysWeight()
    {
        var world = Stable(CanaryWithFreshBaseline, replicas: 4);
        world.Deploy("v2");
        world.NeverReady("v1~baseline");
        world.Settle();
        world.State.Message.Should().Be("step 1/4 setWeight 25: waiting for canary instances (1/1 ready) and baseline instances (0/1 ready)");
        world.Weights().Should().Equal(new Dictionary<string, int> { ["v1"] = 100 });

        var world2 = Stable(CanaryWithFreshBaseline, replicas: 4);
        world2.Deploy("v2");
        world2.Settle();
        var baseline = world2.State.SetOf("v1~baseline")!;
        baseline.Should().Be(new InstanceSet(world2.State.SetOf("v1")!.Release, SetRole.Baseline, 1, 1, Name: "v1~baseline"));
        world2.Weights().Should().Equal(new Dictionary<string, int> { ["v1"] = 50, ["v1~baseline"] = 25, ["v2"] = 25 });
        world2.Events.Should().Contain(e => e.Message == "step 1/4: canary v2 25%, baseline v1~baseline 25%, stable v1 50%");

        world2.Command(CommandKind.Promote);
        world2.Settle();
        world2.State.SetOf("v1~baseline")!.Replicas.Should().Be(3, "the baseline grows with the canary");
        world2.Weights().Should().Equal(new Dictionary<string, int> { ["v1"] = 0, ["v1~baseline"] = 25, ["v2"] = 75 }, "above 50% the baseline gets what is left");

        world2.Command(CommandKind.Promote);
        world2.Settle();
        world2.State.Phase.Should().Be(RolloutPhase.Succeeded);
        world2.Serving().Keys.Should().Equal("v2");
        world2.State.SetOf("v1~baseline")!.Role.Should().Be(SetRole.Retired);
        world2.Advance(ServiceSpec.DefaultDrain).SetOf("v1~baseline").Should().BeNull("the baseline drains and stops with the old stable");
    }
}

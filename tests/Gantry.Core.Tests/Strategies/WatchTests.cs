using Gantry.Core.Analysis;
using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;

namespace Gantry.Core.Tests.Strategies;

/// <summary>The watch after promotion, for every strategy, on a fake clock: the previous release kept, a failure acting at once.</summary>
public sealed class WatchTests
{
    private const string Canary = """
        canary:
          steps: [{ setWeight: 50 }, { pause: {} }]
        """;

    private const string Rolling = """
        rolling: { maxSurge: 1, maxUnavailable: 0 }
        """;

    private const string BlueGreen = """
        blueGreen: { autoPromotion: true, scaleDownDelay: 60s }
        """;

    private static string Watch(string onFailure = "rollback") => $"watch: {{ for: 10m, templates: [slo], onFailure: {onFailure} }}";

    private static RolloutWorld Promoted(string strategy, string onFailure = "rollback")
    {
        var world = new RolloutWorld(strategy, serviceYaml: Watch(onFailure));
        world.Deploy("v1");
        world.Settle().Phase.Should().Be(RolloutPhase.Succeeded, "the first release has nothing to go back to, so it is not watched");
        world.Deploy("v2");
        world.Settle();
        for (var i = 0; i < 20 && world.State.Phase == RolloutPhase.Progressing; i++)
        {
            // A rolling update waits for each old instance's drain.
            world.Advance(TimeSpan.FromSeconds(1));
        }

        if (world.State.Phase == RolloutPhase.Paused)
        {
            world.Command(CommandKind.PromoteFull).Refusal.Should().BeNull();
            world.Settle();
        }

        return world;
    }

    [Theory(Timeout = 10_000)]
    [InlineData(Canary)]
    [InlineData(Rolling)]
    [InlineData(BlueGreen)]
    public void Promoted_IsWatchedForItsWindow_WithThePreviousReleaseKeptOutOfTraffic(string strategy)
    {
        var world = Promoted(strategy);
        world.State.Phase.Should().Be(RolloutPhase.Watching);
        world.Serving().Keys.Should().Equal("v2");
        var kept = world.State.SetOf("v1")!;
        kept.Should().Match<InstanceSet>(s => s.Role == SetRole.Retired && s.Routed == 0 && s.Replicas == 2 && s.RemoveAt == null);
        world.State.Background!.Purpose.Should().Be(AnalysisRequest.WatchPurpose);
        world.Events.Should().Contain(e => e.Type == RolloutEventType.Watching && e.Message.Contains("watching it for 10m", StringComparison.Ordinal));

        world.Advance(TimeSpan.FromMinutes(9)).Phase.Should().Be(RolloutPhase.Watching);
        world.State.SetOf("v1").Should().NotBeNull("the previous release runs for the whole watch");

        world.Advance(TimeSpan.FromMinutes(1)).Phase.Should().Be(RolloutPhase.Succeeded);
        world.State.Message.Should().Be("v2 watched for 10m without a failure");
        world.State.SetOf("v1")!.RemoveAt.Should().NotBeNull("once the watch is over, the previous release stops after its delay");
    }

    [Theory(Timeout = 10_000)]
    [InlineData(Canary)]
    [InlineData(Rolling)]
    [InlineData(BlueGreen)]
    public void WatchAnalysisFails_RollsBackAtOnce_WithTheReason(string strategy)
    {
        var world = Promoted(strategy);
        world.Advance(TimeSpan.FromMinutes(3));
        world.Background(AnalysisPhase.Failed);
        world.Settle();

        world.State.Phase.Should().Be(RolloutPhase.RolledBack);
        world.State.Message.Should().Be("the watch after promotion failed: watch analysis slo failed: measured; all traffic back on v1");
        world.Serving().Keys.Should().Equal("v1");
        world.Events.Select(e => e.Type).Should().Contain([RolloutEventType.WatchFailed, RolloutEventType.RolledBack]);
    }

    [Fact(Timeout = 10_000)]
    public void RollingWatchFails_BeforeThePreviousReleaseIsReadyAgain_RollsBackOnceItIs()
    {
        var world = Promoted(Rolling);
        world.ReadyLimit["v1"] = 0;
        world.Background(AnalysisPhase.Failed);
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Watching, "traffic never goes to a release with no ready instance");
        world.State.Message.Should().Be("the watch after promotion failed: watch analysis slo failed: measured; rolling back once v1 is ready (0/2)");
        world.Serving().Keys.Should().Equal("v2");

        world.ReadyLimit["v1"] = 2;
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.RolledBack);
        world.Serving().Keys.Should().Equal("v1");
        world.Events.Count(e => e.Type == RolloutEventType.WatchFailed).Should().Be(1);
    }

    [Fact(Timeout = 10_000)]
    public void ReleaseCrashingDuringTheWatch_FailsIt()
    {
        var world = Promoted(Rolling);
        world.Restarts["v2"] = RolloutEngine.HealthFailureLimit;
        world.Advance(TimeSpan.FromSeconds(5));
        world.State.Phase.Should().Be(RolloutPhase.RolledBack);
        world.State.Message.Should().StartWith("the watch after promotion failed: v2 failed its health checks");
        world.Serving().Keys.Should().Equal("v1");
    }

    [Fact(Timeout = 10_000)]
    public void OnFailureIncident_KeepsTheRelease_AndSaysTheWatchFailed()
    {
        var world = Promoted(Canary, "incident");
        world.Background(AnalysisPhase.Failed);
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Succeeded);
        world.Serving().Keys.Should().Equal("v2");
        world.Events.Should().Contain(e => e.Type == RolloutEventType.WatchFailed && e.Message.EndsWith("v2 stays (onFailure: incident)", StringComparison.Ordinal));
    }

    [Fact(Timeout = 10_000)]
    public void OnFailureHold_PausesForAPerson_AbortRollsBack()
    {
        var world = Promoted(Canary, "hold");
        world.Background(AnalysisPhase.Failed);
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Paused);
        world.Serving().Keys.Should().Equal("v2");
        world.Advance(TimeSpan.FromMinutes(20)).Phase.Should().Be(RolloutPhase.Paused, "a held watch waits for a person past its window");

        world.Command(CommandKind.Abort, "errors").Refusal.Should().BeNull();
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.RolledBack);
        world.State.Message.Should().Be("rolled back by alice during the watch after promotion: errors: all traffic back on v1");
        world.Serving().Keys.Should().Equal("v1");
    }

    [Fact(Timeout = 10_000)]
    public void OnFailureHold_ResumeWatchesAgain_PromoteAccepts()
    {
        var world = Promoted(Canary, "hold");
        var first = world.State.Background!.Key;
        world.Background(AnalysisPhase.Failed);
        world.Settle();
        world.Command(CommandKind.Resume).Refusal.Should().BeNull();
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Watching);
        world.State.Background!.Key.Should().NotBe(first, "a resumed watch starts a new analysis run");

        world.Command(CommandKind.Promote).Refusal.Should().BeNull();
        world.State.Phase.Should().Be(RolloutPhase.Succeeded);
        world.State.Message.Should().Be("v2 accepted by alice during its watch");
    }

    [Fact(Timeout = 10_000)]
    public void WithoutAWatch_PromotionSucceedsAtOnce()
    {
        var world = RolloutEngineTests.Stable(Canary);
        world.Deploy("v2");
        world.Settle();
        world.Command(CommandKind.PromoteFull);
        world.Settle().Phase.Should().Be(RolloutPhase.Succeeded);
        world.Events.Should().NotContain(e => e.Type == RolloutEventType.Watching);
    }
}

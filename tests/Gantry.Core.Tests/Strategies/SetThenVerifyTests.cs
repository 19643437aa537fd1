using Gantry.Core.Manifest;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;
using Gantry.Core.Traffic;

namespace Gantry.Core.Tests.Strategies;

/// <summary>Set, then verify: a traffic step is done only when the router reports its split in force.</summary>
public sealed class SetThenVerifyTests
{
    [Fact(Timeout = 10_000)]
    public void SetWeight_RouterLate_StaysAtTheStepUntilTheSplitIsInForce()
    {
        var world = RolloutEngineTests.Stable(RolloutEngineTests.Canary);
        world.RouterLate = true;
        world.Deploy("v2");

        // However often the engine looks and however long it waits, step 1 stays unfinished.
        world.Settle();
        world.Advance(TimeSpan.FromMinutes(2));
        world.State.Traffic.CanaryWeight.Should().Be(20, "the weight is set at once");
        world.State.Step.Should().Be(0, "the router has not confirmed the split");
        world.State.Phase.Should().Be(RolloutPhase.Progressing);
        world.State.Message.Should().Be("step 1/7 setWeight 20: waiting for the router to confirm the split is in force");
        world.State.StepUntil.Should().BeNull("the pause after it has not started");

        world.RouterCatchesUp();
        world.Settle();
        world.State.Step.Should().Be(1);
        world.State.Phase.Should().Be(RolloutPhase.Paused, "the 30s pause starts only now");
        world.State.StepUntil.Should().Be(world.Now + TimeSpan.FromSeconds(30));
    }

    [Fact(Timeout = 10_000)]
    public void FirstRelease_AllReady_SucceedsOnlyOnceTheRouterRoutesToThem()
    {
        var world = new RolloutWorld(RolloutEngineTests.Canary);
        world.RouterLate = true;
        world.Deploy("v1");

        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Progressing, "every instance is ready, but no router sends them a request yet");
        world.State.Message.Should().Be("v1: 2/2 instances ready, waiting for the router to route to them");

        world.RouterCatchesUp();
        world.Settle().Phase.Should().Be(RolloutPhase.Succeeded);
        world.State.Message.Should().Be("v1 is running: 2/2 instances ready");
    }

    [Fact(Timeout = 10_000)]
    public void HeaderRouteAndMirror_AreVerifiedLikeWeights()
    {
        var world = RolloutEngineTests.Stable(RolloutEngineTests.Canary);
        world.Deploy("v2");
        world.Settle();
        world.Advance(TimeSpan.FromSeconds(31));
        world.Analysis(Core.Analysis.AnalysisPhase.Successful);
        world.RouterLate = true;
        world.Settle();
        world.State.Step.Should().Be(3, "step 4 (setHeaderRoute) waits for the router");
        world.State.Traffic.HeaderRoute.Should().ContainSingle();

        world.RouterCatchesUp();
        world.Settle();
        world.State.Step.Should().Be(4, "step 5 (setMirror) waits for the router in turn");
        world.State.Traffic.MirrorPercent.Should().Be(50);

        world.RouterCatchesUp();
        world.Settle();
        world.State.Step.Should().Be(5);
        world.State.Traffic.CanaryWeight.Should().Be(50);
    }

    [Fact(Timeout = 10_000)]
    public void PromotedOldSet_PastItsDrain_KeepsRunningUntilTheSplitWithoutItIsInForce()
    {
        var world = PromotedInFull_RouterLate();
        world.Settle();
        world.State.StableVersion.Should().Be("v2");
        world.State.SetOf("v1")!.Routed.Should().Be(0);

        // A router (another replica's, say) has not put the switch in force: it may still send v1 requests.
        world.Advance(ServiceSpec.DefaultDrain + TimeSpan.FromMinutes(1));
        world.State.SetOf("v1").Should().NotBeNull("its instances stop only once no router sends them requests");

        world.RouterCatchesUp();
        world.Settle();
        world.State.Phase.Should().Be(RolloutPhase.Succeeded);
        world.State.SetOf("v1").Should().BeNull("the split without it is in force and its drain is over");
    }

    [Fact(Timeout = 10_000)]
    public void FullPromotion_RouterLate_SucceedsOnlyOnceTheSwitchIsInForce()
    {
        var world = PromotedInFull_RouterLate();
        var succeeded = world.Events.Count(e => e.Type == RolloutEventType.Succeeded);

        // The switch is planned, not yet in force: a client told the release succeeded (deploy --wait, then a smoke
        // test) could still meet v1.
        world.Advance(TimeSpan.FromMinutes(5));
        world.State.Phase.Should().Be(RolloutPhase.Promoting);
        world.State.StableVersion.Should().Be("v2");
        world.State.Traffic.Should().Be(TrafficState.AllStable);
        world.State.Message.Should().Be("v2 promoted: it is the stable release; waiting for the router to switch");
        world.State.FinishedAt.Should().BeNull();
        world.Events.Count(e => e.Type == RolloutEventType.Succeeded).Should().Be(succeeded);

        world.RouterCatchesUp();
        var at = world.Now;
        world.Tick().Phase.Should().Be(RolloutPhase.Succeeded, "one look at the router in force is enough");
        world.State.Message.Should().Be("v2 promoted: it is the stable release");
        world.State.FinishedAt.Should().Be(at);
        world.State.SucceedsOnceRouted.Should().BeNull();
        world.Events.Count(e => e.Type == RolloutEventType.Succeeded).Should().Be(succeeded + 1);
    }

    [Fact(Timeout = 10_000)]
    public void FullPromotion_AbortedWhileTheRouterIsLateToSwitch_GoesBackToTheOldVersion_AndARetryStartsAfresh()
    {
        var world = PromotedInFull_RouterLate();
        world.Settle();
        world.State.SucceedsOnceRouted.Should().Be("v2 promoted: it is the stable release");

        world.Command(CommandKind.Abort, "changed my mind").Refusal.Should().BeNull();
        world.State.Phase.Should().Be(RolloutPhase.Aborted);
        world.State.StableVersion.Should().Be("v1");
        world.State.SucceedsOnceRouted.Should().BeNull();

        world.RouterCatchesUp();
        world.Settle();
        world.Command(CommandKind.Retry).Refusal.Should().BeNull();
        world.Settle().Phase.Should().NotBe(RolloutPhase.Succeeded, "a retry starts the canary again, not where the attempt before ended");
        world.State.StableVersion.Should().Be("v1");
    }

    /// <summary>A canary of v2 promoted in full by a person, the router from then on late to put tables in force.</summary>
    private static RolloutWorld PromotedInFull_RouterLate()
    {
        var world = RolloutEngineTests.Stable(RolloutEngineTests.Canary);
        world.Deploy("v2");
        world.Settle();
        world.Command(CommandKind.PromoteFull).Refusal.Should().BeNull();
        world.RouterLate = true;
        return world;
    }

    /// <summary>A manifest of one service, web, with <paramref name="keys"/> (indented as its keys) added.</summary>
    private static string Web(string keys) => """
            version: 1
            services:
              web:
                process: { command: app, args: ["{port}"] }
                listen: 127.0.0.1:8080
                health: { readiness: { path: /ready } }
            """ + "\n" + keys;

    [Fact(Timeout = 10_000)]
    public void Validate_RouterWithoutHeaderRouting_RefusesSetHeaderRouteAtItsPosition()
    {
        var text = Web("""
                sticky: { cookie: user }
                strategy:
                  canary:
                    steps:
                      - setWeight: 20
                      - setHeaderRoute: { match: [{ header: x-canary, exact: "yes" }] }
                      - setMirror: { percent: 10 }
            """);
        ManifestLoader.LoadText(text).Succeeded.Should().BeTrue("the builtin router can do all of it");

        var loaded = ManifestLoader.LoadText(text, router: RouterCapabilities.Weights);
        loaded.Succeeded.Should().BeFalse();
        loaded.Diagnostics.Select(d => d.ToString()).Should().Equal(
            "gantry.yaml:7:5: error: 'sticky' of service 'web' needs sticky sessions, which the configured traffic router cannot do",
            "gantry.yaml:12:13: error: canary step 2 needs header routing, which the configured traffic router cannot do",
            "gantry.yaml:13:13: error: canary step 3 needs mirroring, which the configured traffic router cannot do");

        ManifestLoader.LoadText(text.Replace("header: x-canary", "cookie: canary", StringComparison.Ordinal), router: RouterCapability.Builtin & ~RouterCapabilities.CookieRoutes)
            .Diagnostics.Should().ContainSingle(d => d.ToString() == "gantry.yaml:12:13: error: canary step 2 needs cookie routing, which the configured traffic router cannot do");
    }

    [Fact(Timeout = 10_000)]
    public void Validate_RouterWithoutRateLimits_RefusesTheServicesRateLimitAtItsKey()
    {
        var text = Web("""
                rateLimit: { requestsPerSecond: 50 }
            """);
        var builtin = ManifestLoader.LoadText(text);
        builtin.Manifest!.Services[0].RateLimit.Should().Be(new RateLimit(50, 50), "the burst is the rate when not given");
        ManifestLoader.LoadText(text, router: RouterCapability.Builtin & ~RouterCapabilities.RateLimits).Diagnostics.Select(d => d.ToString())
            .Should().Equal("gantry.yaml:7:5: error: 'rateLimit' of service 'web' needs rate limits, which the configured traffic router cannot do");
    }
}

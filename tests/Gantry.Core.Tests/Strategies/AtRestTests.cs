using Gantry.Core.Analysis;
using Gantry.Core.Rollouts;
using Gantry.Core.Strategies;

namespace Gantry.Core.Tests.Strategies;

/// <summary>
/// What lets the reconciler leave a rollout alone: once it is at rest, the engine decides nothing new for it however
/// much time passes, and it is not at rest while anything of it still waits for time (a watch, a set to stop, a job).
/// </summary>
public sealed class AtRestTests
{
    public static TheoryData<string, string> Cases => new()
    {
        { "canary:\n  steps: [{ setWeight: 50 }, { pause: { duration: 10s } }]\n  abortScaleDownDelay: 30s", string.Empty },
        { "rolling: { maxSurge: 1, maxUnavailable: 0 }", string.Empty },
        { "blueGreen: { autoPromotion: true, scaleDownDelay: 60s }", string.Empty },
        { "canary:\n  steps: [{ setWeight: 50 }]", "watch: { for: 5m, templates: [slo], onFailure: rollback }" },
    };

    [Theory(Timeout = 10_000)]
    [MemberData(nameof(Cases))]
    public void AtRest_TheEngineDecidesNothingNew_HoweverLongItWaits(string strategy, string serviceYaml)
    {
        var world = new RolloutWorld(strategy, serviceYaml: serviceYaml);
        world.Deploy("v1");
        world.Settle();
        var states = new List<RolloutState> { world.Deploy("v2") };
        for (var i = 0; i < 400 && !world.State.Phase.IsTerminal(); i++)
        {
            if (world.State.Background is { Completed: false })
            {
                world.Background(AnalysisPhase.Successful);
            }

            world.RouterCatchesUp();
            states.Add(world.Advance(TimeSpan.FromSeconds(1)));
        }

        world.State.Phase.Should().Be(RolloutPhase.Succeeded);
        for (var i = 0; i < 120; i++)
        {
            world.RouterCatchesUp();
            states.Add(world.Advance(TimeSpan.FromSeconds(1)));
        }

        var atRest = states.Where(s => s.IsAtRest()).ToList();
        atRest.Should().NotBeEmpty();
        world.State.IsAtRest().Should().BeTrue("two minutes after promotion the earlier release is gone");
        foreach (var state in atRest)
        {
            var later = world.Observe() with { Now = world.Now + TimeSpan.FromDays(1) };
            RolloutEngine.Next(world.Service, state, later).Changed(state).Should().BeFalse($"{state.Id} r{state.Revision} is at rest");
        }

        // Before that, never at rest while something still waited for time.
        states.Where(s => !s.Phase.IsTerminal() || s.Sets.Any(set => set.Role == SetRole.Retired) || s.Job is not null)
            .Should().NotBeEmpty().And.OnlyContain(s => !s.IsAtRest());
    }

    [Fact(Timeout = 10_000)]
    public void AJobAfterTheEnd_OrAnAnalysisGoingOn_IsNotRest()
    {
        var world = new RolloutWorld("rolling: { maxSurge: 1, maxUnavailable: 0 }");
        world.Deploy("v1");
        var ended = world.Settle();
        ended.IsAtRest().Should().BeTrue();
        (ended with { Job = new JobRequest("x/1/onAbort", Gantry.Core.Manifest.JobHook.OnAbort, ["undo"]) }).IsAtRest().Should().BeFalse();
        (ended with { Background = new AnalysisRequest("k", ["slo"], AnalysisRequest.BackgroundPurpose) }).IsAtRest().Should().BeFalse();
        (ended with { Background = new AnalysisRequest("k", ["slo"], AnalysisRequest.BackgroundPurpose, Completed: true) }).IsAtRest().Should().BeTrue();
        (ended with { Phase = RolloutPhase.Watching }).IsAtRest().Should().BeFalse();
    }
}
